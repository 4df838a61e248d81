import hashlib

from django.core.cache import caches
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle


class LoginFailureThrottle(SimpleRateThrottle):
    """Counts failed password checks for one key. `allows_attempt` checks the count without
    adding to it (so a locked-out key is refused even with the right password); the caller
    calls `record_failure` after a wrong password. Rates come from DEFAULT_THROTTLE_RATES[scope].

    Counters live in the "shared" cache (database or Redis), never in one process's memory:
    with several workers or instances, per-process counters would multiply the limit. A read,
    a check and a write are exact only while `login_throttles_lock` holds the key."""

    # SimpleRateThrottle.__init__ sets these from the rate (None without one); the stubs omit them.
    num_requests: int | None
    duration: int | None
    key: str

    def __init__(self, *, ident: str) -> None:
        super().__init__()
        # Looked up per instance (one per attempt), as late as a property would.
        self.cache = caches["shared"]
        self.key = self.cache_format % {"scope": self.scope, "ident": ident}

    def allows_attempt(self) -> bool:
        if self.num_requests is None or self.duration is None:  # no rate configured
            return True
        self.now = self.timer()
        self.history = [t for t in self.cache.get(self.key, []) if t > self.now - self.duration]
        return len(self.history) < self.num_requests

    def record_failure(self) -> None:
        if self.duration is None:  # no rate configured
            return
        now = self.timer()
        history = [t for t in self.cache.get(self.key, []) if t > now - self.duration]
        self.cache.set(self.key, [now, *history], self.duration)


class LoginNameThrottle(LoginFailureThrottle):
    """Failed logins per login name, exactly as typed up to case: a username and an email are
    two counters even when they name one account, and a name with no account has one too. So
    a lock-out says nothing about which names belong together, or exist (docs/security.md)."""

    scope = "login_username"

    def __init__(self, *, name: str):
        # Lower-cased like the look-up (usernames and emails both match ignoring case), so
        # case variants share one counter. Hashed: the key must not carry arbitrary text.
        super().__init__(ident=hashlib.sha256(name.strip().lower().encode()).hexdigest())


class LoginAddressThrottle(LoginFailureThrottle):
    """Failed logins per client address, whatever names they try (NUM_PROXIES decides which
    address, as for every DRF throttle)."""

    scope = "login_address"

    def __init__(self, *, request):
        super().__init__(ident=self.get_ident(request))


def login_throttles_lock(throttles: list[LoginFailureThrottle]) -> None:
    """Hold each throttle's key until the current transaction ends: password checks on one
    name or from one address queue here, so each sees every failure recorded before it.

    PostgreSQL: transaction-scoped advisory locks, taken in one global order (sorted keys) so
    two attempts can never wait on each other. SQLite: the IMMEDIATE transaction already holds
    the database's only write lock, which serializes every attempt."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted({throttle.key for throttle in throttles}):
            lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], signed=True)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
