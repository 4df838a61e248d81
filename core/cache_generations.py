"""Values cached in the shared cache under *generations*, forgotten the moment a write commits.

A generation is a random token per kind of data: LISTINGS (every property's public fields,
including its owner's username) and AVAILABILITY (confirmed bookings, which decide what an
availability search finds). Each cached value is filed under the current tokens of the
generations it depends on. A write that changes that data replaces the tokens when it commits,
before its own response is sent, so the values filed under the old tokens are never read again,
by any process: nobody reads a stale answer, the writer included. Values expire on their own
after their timeout, which is also the backstop for writes that bypass the services.

Why it is correct under concurrency: a reader takes the tokens *before* it reads the database,
and stores its value together with them; a value counts only while its tokens are current. A
write that commits after that moment replaces a token the reader already holds, so whatever the
reader stores is ignored by everyone after the write. (A plain "delete the key on commit" is not:
a reader that counted before the commit can store its stale count after the delete.) Tokens
are random rather than counters, so a token evicted from the cache (or lost with a Redis
restart) starts a fresh generation instead of going back to an old number whose values might
still be there.

Two users: the unfiltered property count (properties.selectors.property_listed_count, in the
shared cache whatever the configuration) and public list and detail responses
(response_cache_get_or_compute, only with Redis: RESPONSE_CACHE_SECONDS > 0).

What it cannot promise: a token replacement that fails (Redis unreachable for that moment) is
logged, and the values it should have hidden stay readable until they expire; so does a token
write lost by an asynchronous Redis failover. docs/deployment.md ("Redis") says what follows.
"""

import hashlib
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction

from core.metrics import CACHE_LOOKUPS

LISTINGS = "listings"
AVAILABILITY = "availability"

T = TypeVar("T")

_TOKEN_KEY = "generation:{}"
_VALUE_KEY = "generation-value:{}"


class RecentMisses:
    """The keys this process missed lately (at most `size`, each remembered for `within`
    seconds): what lets a cache store a value on its second miss only.

    Most searches are asked once (random filters, dates, pages) and a detail at a random id is
    rarely asked twice within a minute: storing each of those costs a pickling and a second
    Redis round trip that no reader ever uses. A value asked for again within its timeout is
    stored; a popular one is then served from the cache from its second or third request on
    ("cache on second hit", as CDNs admit objects). Per process and in memory (Django's
    local-memory cache, forgetting the least recently remembered key when full): a miss costs
    no extra round trip, and with W processes a key is stored by its (W + 1)th miss at the
    latest, while it is among the last `size` keys missed."""

    def __init__(self, size: int = 10_000):
        self._missed = LocMemCache(
            f"recent-misses-{id(self)}",
            {"OPTIONS": {"MAX_ENTRIES": size, "CULL_FREQUENCY": size}},  # one out per one in
        )

    def missed_again(self, key: str, *, within: float) -> bool:
        """Whether `key` was missed in the last `within` seconds; remembers this miss if not."""
        return not self._missed.add(key, True, timeout=within)

    def clear(self) -> None:
        self._missed.clear()


# The response cache's admission (response_cache_get_or_compute).
recent_response_misses = RecentMisses()


def cache_generations_forget(*generations: str) -> None:
    """Make every value cached under these generations unreachable, for every process at once.
    Call it once the write is visible (cache_generations_forget_on_commit)."""
    if not settings.REDIS_URL and settings.RESPONSE_CACHE_SECONDS <= 0:
        # Only cached responses depend on AVAILABILITY, and without Redis no instance caches
        # them: a booking need not write to the cache at all. (With Redis it always does, as
        # another instance may run with a different RESPONSE_CACHE_SECONDS.)
        generations = tuple(name for name in generations if name != AVAILABILITY)
    cache = caches["shared"]
    # One SET each rather than set_many: Django's Redis set_many builds a pipeline, and a
    # redis-py pipeline is a new client (~0.3 ms of CPU to construct) on every call.
    for name in generations:
        cache.set(_TOKEN_KEY.format(name), secrets.token_hex(8), timeout=None)


def cache_generations_forget_on_commit(*generations: str) -> None:
    """cache_generations_forget once the current transaction commits (at once outside one).

    Robust: a committed write must never turn into an error response because the cache could
    not be told (the client would retry a write that happened). Django logs the failure, and
    the values it could not hide expire within their timeout."""

    def forget_cache_generations() -> None:
        cache_generations_forget(*generations)

    # A named function, not functools.partial: Django logs a failed robust callback by its
    # __qualname__, which a partial lacks (the logging itself would raise AttributeError).
    transaction.on_commit(forget_cache_generations, robust=True)


def cache_generations_get_or_compute(
    *,
    generations: tuple[str, ...],
    key: str,
    compute: Callable[[], T],
    timeout: int,
    name: str,
    admission: RecentMisses | None = None,
) -> T:
    """`compute()`'s result for `key`, cached for `timeout` seconds (0: not at all) under the
    current tokens of `generations`. Whatever compute raises propagates and is not cached.

    The value is stored with the tokens it was computed under and counts only while they are
    still current, so one round trip reads the tokens and the value together. `name` labels
    the hits and misses in the booking_cache_lookups metric. With `admission`, a missed value
    is stored only when it was missed before within `timeout` (RecentMisses) or when an
    outdated copy of it was found (it was worth storing once)."""
    if timeout <= 0:
        return compute()
    cache = caches["shared"]
    token_keys = [_TOKEN_KEY.format(name) for name in generations]
    # Hashed: the key may be a URL of any length and content; the cache wants short, plain keys.
    value_key = _VALUE_KEY.format(hashlib.sha256(key.encode()).hexdigest())
    found = cache.get_many([*token_keys, value_key])
    tokens = []
    for token_key in token_keys:
        token = found.get(token_key)
        if token is None:
            # Never set, or evicted: start a new generation, taken before the database is read
            # like a token found. Should another process have started one meanwhile, add()
            # keeps theirs, and the value stored under ours simply never matches.
            token = secrets.token_hex(8)
            cache.add(token_key, token, timeout=None)
        tokens.append(token)
    current = tuple(tokens)
    stored: tuple[tuple[str, ...], T] | None = found.get(value_key)
    if stored is not None and stored[0] == current:
        CACHE_LOOKUPS.labels(cache=name, result="hit").inc()
        return stored[1]
    CACHE_LOOKUPS.labels(cache=name, result="miss").inc()
    result = compute()
    if admission is None or stored is not None or admission.missed_again(value_key, within=timeout):
        cache.set(value_key, (current, result), timeout=timeout)
    return result


def response_cache_get_or_compute(
    *, generations: tuple[str, ...], key: str, compute: Callable[[], T]
) -> T:
    """A public response's data, cached for RESPONSE_CACHE_SECONDS (with Redis only), from the
    second time it is asked for within that time (RecentMisses). The key carries
    RESPONSE_CACHE_VERSION, so a release that changes a response's shape does not read the
    previous release's entries during a rolling deploy."""
    return cache_generations_get_or_compute(
        generations=generations,
        key=f"response {settings.RESPONSE_CACHE_VERSION} {key}",
        compute=compute,
        timeout=settings.RESPONSE_CACHE_SECONDS,
        name="response",
        admission=recent_response_misses,
    )
