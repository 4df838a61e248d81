"""CORS as a browser sees it: a page on another origin calls the API with fetch(), so Chromium
sends a real preflight (the request has Authorization, Idempotency-Key and X-Request-ID headers)
and hides every response header the API does not expose. Needs Debian's chromium, like
test_browser.py (skipped without it unless REQUIRE_BROWSER_TEST=1)."""

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.services import token_pair_create
from accounts.tests.factories import UserFactory
from bookings.models import Booking
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)

BOOK_TWICE = """async ({api, token, body}) => {
  const headers = {
    "Authorization": "Bearer " + token,
    "Content-Type": "application/json",
    "Idempotency-Key": "cors-key-1",
    "X-Request-ID": "cors-request-1",
  };
  try {
    const first = await fetch(api + "/api/bookings/", {method: "POST", headers, body});
    const second = await fetch(api + "/api/bookings/", {method: "POST", headers, body});
    return {
      statuses: [first.status, second.status],
      replayed: second.headers.get("Idempotent-Replayed"),
      requestId: second.headers.get("X-Request-ID"),
    };
  } catch (error) {
    return {blocked: String(error)};
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>front end</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def front_end():
    """Another origin (same host, another port) serving an empty page."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context()
    yield context.new_page()
    context.close()


def _book_twice_from(page, origin: str, api: str) -> dict:
    listing = PropertyFactory.create()
    token = token_pair_create(user=UserFactory.create()).access_token
    start = timezone.localdate() + timedelta(days=20)
    body = (
        f'{{"property_id": {listing.pk}, "check_in": "{start}", '
        f'"check_out": "{start + timedelta(days=2)}"}}'
    )
    page.goto(f"{origin}/")
    return page.evaluate(BOOK_TWICE, {"api": api, "token": str(token), "body": body})


def test_an_allowed_origin_passes_the_preflight_and_reads_our_headers(live_server, front_end, page):
    with override_settings(CORS_ALLOWED_ORIGINS=[front_end]):
        result = _book_twice_from(page, front_end, live_server.url)

    assert result == {
        "statuses": [201, 201],
        "replayed": "true",
        "requestId": "cors-request-1",
    }
    assert Booking.objects.count() == 1


def test_an_origin_not_allowed_is_stopped_by_the_browser_before_anything_is_booked(
    live_server, front_end, page
):
    with override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"]):
        result = _book_twice_from(page, front_end, live_server.url)

    assert result == {"blocked": "TypeError: Failed to fetch"}
    assert Booking.objects.count() == 0
