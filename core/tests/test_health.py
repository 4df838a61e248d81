import pytest
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db

# REDIS_URL=redis://127.0.0.1:1/0: a real Redis client on a port where nothing listens.
DEAD_REDIS = {
    "BACKEND": "core.cache.PrefixedRedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",
    "KEY_PREFIX": "health-test",
    "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
}
MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "health"}


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="without Redis only")
def test_health_reports_ok(api_client):
    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_is_a_503_when_redis_is_configured_and_down(api_client):
    with override_settings(CACHES={"default": DEAD_REDIS, "shared": DEAD_REDIS}):
        response = api_client.get("/api/health/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "detail": "The cache is unavailable; try again shortly.",
        "code": "service_unavailable",
        "status": "unavailable",
        "database": "ok",
        "cache": "unavailable",
    }


def test_health_checks_the_shared_cache_that_logins_need(api_client):
    # Request-rate counters answering does not make the instance healthy.
    with override_settings(CACHES={"default": MEMORY, "shared": DEAD_REDIS}):
        response = api_client.get("/api/health/")

    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable"


# With a live Redis (`make cluster-test` runs this under REDIS_URL): test_cache.py.
# The database outage (503, then recovery) is in test_faults.py, with the other endpoints.
