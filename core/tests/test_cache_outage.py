"""Redis going away (REDIS_URL set, nothing listening): requests that need it are a 503 to
retry in the error shape, never a 500, and a write that committed is never reported as failed
because the cache could not be told about it."""

from datetime import timedelta

import pytest
import redis
from django.test import override_settings

from bookings.models import Booking
from conftest import client_for
from core.stays import utc_today
from core.views import unavailable_detail
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def _dead_redis() -> dict:
    return {
        "BACKEND": "core.cache.PrefixedRedisCache",
        # A socket that does not exist: refused at once, and no other process can take it.
        "LOCATION": "unix:///nonexistent/booking-test-redis.sock",
        "KEY_PREFIX": "outage-test",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


MEMORY = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "outage"}


def test_reads_and_logins_are_a_503_to_retry_while_redis_is_down(api_client, user, password):
    listing = PropertyFactory.create()
    dead = _dead_redis()

    with override_settings(CACHES={"default": dead, "shared": dead}, RESPONSE_CACHE_SECONDS=60):
        responses = [
            api_client.get("/api/properties/"),
            api_client.get(f"/api/properties/{listing.pk}/"),
            api_client.post("/api/login/", {"username": user.username, "password": password}),
        ]

    for response in responses:
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert response.json() == {
            "detail": "The cache is unavailable; try again shortly.",
            "code": "service_unavailable",
        }


def test_cached_reads_are_a_503_when_only_the_shared_cache_is_down(api_client):
    # Throttle counters answer; the response cache (shared) does not, and is not skipped.
    listing = PropertyFactory.create()

    with override_settings(
        CACHES={"default": MEMORY, "shared": _dead_redis()}, RESPONSE_CACHE_SECONDS=60
    ):
        responses = [
            api_client.get("/api/properties/"),
            api_client.get(f"/api/properties/{listing.pk}/"),
        ]

    assert [response.status_code for response in responses] == [503, 503]


def test_a_booking_refused_for_the_outage_writes_nothing(user):
    listing = PropertyFactory.create()
    dead = _dead_redis()
    stay = utc_today() + timedelta(days=5)

    with override_settings(CACHES={"default": dead, "shared": dead}):
        response = client_for(user).post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(stay),
                "check_out": str(stay + timedelta(days=2)),
            },
        )

    # The per-user rate is checked before the view runs: nothing was attempted.
    assert response.status_code == 503
    assert Booking.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_writes_that_committed_succeed_even_if_the_cache_cannot_be_told(user, caplog):
    # Real commits, so the forgetting runs inside each request, as in production. Throttle
    # counters still answer, the shared cache (count, responses) does not: the forgetting
    # fails, and must not turn a done write into an error.
    listing = PropertyFactory.create()
    stay = utc_today() + timedelta(days=5)
    client = client_for(user)

    with override_settings(
        CACHES={"default": MEMORY, "shared": _dead_redis()}, RESPONSE_CACHE_SECONDS=60
    ):
        created = client.post(
            "/api/properties/",
            {"title": "Made", "price_per_night": 60, "location": "Lagos, Nigeria"},
        )
        booked = client.post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(stay),
                "check_out": str(stay + timedelta(days=2)),
            },
        )

    assert (created.status_code, booked.status_code) == (201, 201)
    assert Property.objects.filter(title="Made").count() == 1
    assert Booking.objects.filter(property=listing, guest=user).count() == 1
    # Django logs each failed callback: the listings generation, then the availability one.
    failures = [r for r in caplog.records if "on_commit()" in r.getMessage()]
    assert len(failures) == 2


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.ConnectionError("refused"),
        redis.exceptions.TimeoutError("timed out"),
        redis.exceptions.ReadOnlyError("READONLY You can't write against a read only replica."),
        redis.exceptions.OutOfMemoryError("OOM command not allowed"),
    ],
)
def test_a_redis_that_cannot_serve_is_unavailable_not_a_bug(error):
    assert unavailable_detail(error) == "The cache is unavailable; try again shortly."


def test_other_redis_errors_stay_bugs():
    assert unavailable_detail(redis.exceptions.ResponseError("WRONGTYPE")) is None
