"""Public read responses cached in the shared cache, forgotten the moment a write commits.

Each cached response is filed under the current token of the "generations" it depends on (a
generation is a random token per kind of data: listings, availability). A write that changes
that data replaces the token when it commits, before its own response is sent, so the entries
filed under the old token are never read again, by any process: nobody reads a stale answer,
the writer included. Entries then expire on their own after RESPONSE_CACHE_SECONDS, which is
also the backstop for writes that bypass the services (a bulk script).

Why it is correct under concurrency: a reader takes the tokens *before* it reads the database.
A write that commits after that moment replaces a token the reader already holds, so whatever
the reader stores is filed where nobody will look. Tokens are random rather than counters, so a
token evicted from the cache (or lost with a Redis restart) starts a fresh generation instead of
going back to an old number whose entries might still be there.

Only with a shared cache (Redis, RESPONSE_CACHE_SECONDS > 0): with one memory cache per process,
a write on one process could not reach the others' entries.
"""

import hashlib
import secrets
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

# Generations. LISTINGS: every property's public fields, including its owner's username.
# AVAILABILITY: confirmed bookings, which decide what an availability search finds.
LISTINGS = "listings"
AVAILABILITY = "availability"

T = TypeVar("T")

_TOKEN_KEY = "response-cache:generation:{}"
_ENTRY_KEY = "response-cache:entry:{}"


def _enabled() -> bool:
    return settings.RESPONSE_CACHE_SECONDS > 0


def response_cache_forget(*generations: str) -> None:
    """Make every cached response that depends on these generations unreachable, for every
    process at once. Call it from transaction.on_commit, so the data is visible first."""
    if not _enabled():
        return
    caches["shared"].set_many(
        {_TOKEN_KEY.format(name): secrets.token_hex(8) for name in generations}, timeout=None
    )


def response_cache_forget_on_commit(*generations: str) -> None:
    """response_cache_forget once the current transaction commits (at once outside one).

    Robust: a committed write must never turn into an error response because the cache could
    not be told (the client would retry a write that happened). Django logs the failure, and
    the entries it could not forget expire within RESPONSE_CACHE_SECONDS."""

    def forget_response_cache() -> None:
        response_cache_forget(*generations)

    # A named function, not functools.partial: Django logs a failed robust callback by its
    # __qualname__, which a partial lacks (the logging itself would raise AttributeError).
    transaction.on_commit(forget_response_cache, robust=True)


def response_cache_get_or_compute(
    *, generations: tuple[str, ...], key: str, compute: Callable[[], T]
) -> T:
    """`compute()`'s result for `key`, cached under the current tokens of `generations`.
    Whatever compute raises (a 400, a 404) propagates and is not cached."""
    if not _enabled():
        return compute()
    cache = caches["shared"]
    token_keys = [_TOKEN_KEY.format(name) for name in generations]
    tokens = cache.get_many(token_keys)
    missing = [token_key for token_key in token_keys if token_key not in tokens]
    if missing:
        # Never set, or evicted: start a new generation. This answer is not cached, because a
        # concurrent writer may replace the token between our add() and our read.
        for token_key in missing:
            cache.add(token_key, secrets.token_hex(8), timeout=None)
        return compute()
    # Hashed: the key is a URL of any length and content, the cache wants short, plain keys.
    material = "\n".join([*(tokens[token_key] for token_key in token_keys), key])
    entry_key = _ENTRY_KEY.format(hashlib.sha256(material.encode()).hexdigest())
    cached = cache.get(entry_key)
    if cached is not None:
        return cached
    result = compute()
    cache.set(entry_key, result, timeout=settings.RESPONSE_CACHE_SECONDS)
    return result
