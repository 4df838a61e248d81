"""Schemathesis hooks for .ci/fuzz.sh: authenticate every request as the fuzzing user.

POST /api/logout/ revokes the access token it is sent with, so it gets a token of its own,
minted from the refresh-token chain; every other operation uses the run's long-lived token."""

import json
import os
import threading
import urllib.request

import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
ACCESS = os.environ["FUZZ_ACCESS"]
_refresh = os.environ["FUZZ_REFRESH"]
_refresh_lock = threading.Lock()


def _throwaway_access_token() -> str:
    """A new access token from the refresh chain (each refresh rotates the refresh token)."""
    global _refresh
    with _refresh_lock:
        request = urllib.request.Request(
            f"{BASE_URL}/api/token/refresh/",
            data=json.dumps({"refresh": _refresh}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            pair = json.load(response)
        _refresh = pair["refresh"]
        return pair["token"]


@schemathesis.auth(refresh_interval=None)
class FuzzUserToken:
    def get(self, case, ctx):
        if case.operation.path == "/api/logout/":
            return _throwaway_access_token()
        return ACCESS

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
