import hashlib

from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class LoginFailureThrottle(SimpleRateThrottle):
    """Counts failed logins only. `allow_request` checks the count without adding to it (so a
    locked-out key is refused even with the right password); the login view calls
    `record_failure` after a wrong password. Rates come from DEFAULT_THROTTLE_RATES[scope].

    Counters live in the "shared" cache (database or Redis), never in one process's memory:
    with several workers or instances, per-process counters would multiply the limit."""

    # SimpleRateThrottle.__init__ sets these from the rate (None without one); the stubs omit them.
    num_requests: int | None
    duration: int | None

    def __init__(self) -> None:
        super().__init__()
        # DRF makes a throttle per request, so this looks the alias up as late as a property would.
        self.cache = caches["shared"]

    key = None  # set by allow_request; record_failure counts against the same key

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.num_requests is None or self.duration is None:  # no rate configured
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        """Count one failed login against the key allow_request checked."""
        if self.duration is None or self.key is None:  # no rate configured, or nothing checked
            return
        now = self.timer()
        history = [t for t in self.cache.get(self.key, []) if t > now - self.duration]
        self.cache.set(self.key, [now, *history], self.duration)


class LoginUsernameThrottle(LoginFailureThrottle):
    """Failed logins per account: its username and its email share one counter. A name with
    no account counts on its own (so guessing names is throttled too). The view has already
    looked the name up: it passes `login_name` and `login_account` (None if unknown)."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        if view.login_account is not None:
            ident = f"user-{view.login_account.pk}"
        else:
            # Hashed: the cache key must not carry arbitrary client text.
            ident = hashlib.sha256(view.login_name.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginAddressThrottle(LoginFailureThrottle):
    """Failed logins per client address, whatever names they try."""

    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
