import hashlib

from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle


class LoginFailureThrottle(SimpleRateThrottle):
    """Counts failed logins only. `allow_request` checks the count without adding to it (so a
    locked-out key is refused even with the right password); the login view calls
    `record_failure` after a wrong password. Rates come from DEFAULT_THROTTLE_RATES[scope].

    Counters live in the "shared" cache (database or Redis), never in one process's memory:
    with several workers or instances, per-process counters would multiply the limit."""

    @property
    def cache(self):
        return caches["shared"]

    key = None  # set by allow_request; record_failure counts against the same key

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        """Count one failed login against the key allow_request checked."""
        if self.rate is None or self.key is None:
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
