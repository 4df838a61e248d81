from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from django.conf import settings

from core.cache import PrefixedRedisCache

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs a Redis server in REDIS_URL (make cluster-test sets it)"
)


def _cache(prefix: str) -> PrefixedRedisCache:
    assert settings.REDIS_URL  # the module is skipped without it
    return PrefixedRedisCache(settings.REDIS_URL, {"KEY_PREFIX": prefix})


def test_clear_deletes_every_key_of_its_prefix_and_nothing_else():
    run = f"cache-test-{uuid4().hex[:8]}"
    # Glob characters in the prefix are literal: unescaped, "run*" would also match "runx".
    ours = _cache(f"{run}*")
    neighbours = [_cache(f"{run}x"), _cache(f"{run}[")]
    ours.set_many({f"k{n}": n for n in range(1203)})  # more than one SCAN batch of 500
    ours.set("old", 1, version=2)
    for neighbour in neighbours:
        neighbour.set("k1", "kept")
    try:
        assert ours.clear() is True

        assert ours.get_many([f"k{n}" for n in range(1203)]) == {}
        assert ours.get("old", version=2) is None
        assert [neighbour.get("k1") for neighbour in neighbours] == ["kept", "kept"]
    finally:
        for neighbour in neighbours:
            neighbour.clear()
        ours.clear()


def test_one_redis_client_serves_every_operation_and_thread():
    cache = _cache(f"cache-test-{uuid4().hex[:8]}")
    client = cache._cache.get_client(write=True)

    def round_trip(n: int) -> int:
        for step in range(50):
            cache.set(f"k{n}", n * 1000 + step)
            assert cache.get(f"k{n}") == n * 1000 + step
        return cache.get(f"k{n}")

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(round_trip, range(8)))

        assert results == [n * 1000 + 49 for n in range(8)]
        assert cache._cache.get_client() is client
        assert cache._cache.get_client(write=True) is client
    finally:
        cache.clear()


@pytest.mark.django_db
def test_health_reports_the_live_redis(api_client):
    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
