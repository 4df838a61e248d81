from uuid import uuid4

from .base import *  # noqa: F403
from .base import CACHES, DATABASES

# Django puts a SQLite test database in memory, which other threads cannot see; the concurrency
# tests need a real file shared by every connection.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}  # noqa: F405

# Tests control time and rates themselves, and conftest clears the caches around every test.
# Without Redis, memory caches (one process) stand in for the shared one. On Redis (REDIS_URL
# set) each run gets its own key prefix, so runs sharing a Redis database neither see nor clear
# each other's counters.
if REDIS_URL:  # noqa: F405
    _prefix = f"test-{uuid4().hex[:12]}"
    for _alias in CACHES.values():
        _alias["KEY_PREFIX"] = _prefix
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "d"},
        "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "s"},
    }

# Query-count and behaviour tests expect every read to reach the database; the response cache's
# own tests switch it on (properties/tests/test_response_cache.py).
RESPONSE_CACHE_SECONDS = 0
