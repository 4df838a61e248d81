"""Each domain counter moves where its event happens, by exactly one, and only then: read from
prometheus_client's registry before and after (the same values /metrics serves)."""

from datetime import timedelta

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import PASSWORD, UserFactory
from bookings.services import booking_cancel, booking_create, booking_create_idempotent
from bookings.tests.factories import BookingFactory
from core.exceptions import BookingConflict
from core.stays import utc_today
from properties.selectors import property_listed_count
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

Series = tuple[str, dict[str, str]]

CREATED: Series = ("booking_bookings_created_total", {})
CONFLICTS: Series = ("booking_booking_conflicts_total", {})
CANCELLED: Series = ("booking_bookings_cancelled_total", {})
REPLAYS: Series = ("booking_idempotent_replays_total", {})
LOGIN_FAILURES: Series = ("booking_login_failures_total", {})


def lockouts(scope):
    return ("booking_login_lockouts_total", {"scope": scope})


def lookups(cache, result):
    return ("booking_cache_lookups_total", {"cache": cache, "result": result})


class Counters:
    """Snapshot of some series; `moved()` gives how far each moved since."""

    def __init__(self, *series):
        self.series = series
        self.before = [self._value(s) for s in series]

    @staticmethod
    def _value(series: Series) -> float:
        name, labels = series
        # A labelled series not yet incremented has no sample: it is at zero.
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def moved(self) -> list[float]:
        return [self._value(s) - b for s, b in zip(self.series, self.before, strict=True)]


def _stay(days_ahead: int = 30) -> dict:
    check_in = utc_today() + timedelta(days=days_ahead)
    return {"check_in": check_in, "check_out": check_in + timedelta(days=2)}


def test_a_booking_counts_once_its_transaction_commits(django_capture_on_commit_callbacks):
    listing = PropertyFactory.create()
    counters = Counters(CREATED, CONFLICTS)

    with django_capture_on_commit_callbacks() as callbacks:
        booking_create(guest=UserFactory.create(), property_id=listing.pk, **_stay())
    before_commit = counters.moved()
    for callback in callbacks:
        callback()

    assert before_commit == [0, 0]
    assert counters.moved() == [1, 0]


def test_a_conflict_counts_and_creates_nothing(django_capture_on_commit_callbacks):
    taken = BookingFactory.create(check_in=_stay()["check_in"], check_out=_stay()["check_out"])
    counters = Counters(CREATED, CONFLICTS)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingConflict):
        booking_create(guest=UserFactory.create(), property_id=taken.property_id, **_stay())

    assert counters.moved() == [0, 1]


def test_a_cancellation_counts(django_capture_on_commit_callbacks):
    booking = BookingFactory.create()
    counters = Counters(CANCELLED)

    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert counters.moved() == [1]


def test_an_idempotent_replay_counts_and_books_nothing_more(django_capture_on_commit_callbacks):
    listing, guest = PropertyFactory.create(), UserFactory.create()
    request = {"guest": guest, "idempotency_key": "k-1", "property_id": listing.pk, **_stay()}
    counters = Counters(CREATED, REPLAYS)

    with django_capture_on_commit_callbacks(execute=True):
        booking_create_idempotent(**request)
        booking_create_idempotent(**request)

    assert counters.moved() == [1, 1]


def test_failed_logins_and_lockouts_count(api_client, monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_username": "2/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    user = UserFactory.create()
    counters = Counters(LOGIN_FAILURES, lockouts("login_username"), lockouts("login_address"))

    statuses = [
        api_client.post("/api/login/", {"username": user.username, "password": password})
        for password in ("wrong-1", "wrong-2", PASSWORD)
    ]

    assert [response.status_code for response in statuses] == [401, 401, 429]
    assert counters.moved() == [2, 1, 0]


def test_property_count_cache_hits_and_misses_count():
    PropertyFactory.create()
    counters = Counters(lookups("property_count", "miss"), lookups("property_count", "hit"))

    counts = [property_listed_count(), property_listed_count()]

    assert counts == [1, 1]
    assert counters.moved() == [1, 1]


def test_response_cache_hits_and_misses_count(api_client):
    listing = PropertyFactory.create()
    counters = Counters(lookups("response", "miss"), lookups("response", "hit"))

    with override_settings(RESPONSE_CACHE_SECONDS=60):
        statuses = [api_client.get(f"/api/properties/{listing.pk}/").status_code for _ in "abc"]

    # Stored on its second miss (core.cache_generations.RecentMisses), then a hit.
    assert statuses == [200, 200, 200]
    assert counters.moved() == [2, 1]


def test_metrics_endpoint_serves_the_domain_series(api_client):
    body = api_client.get("/metrics").content.decode()

    for name in (
        "booking_bookings_created_total",
        "booking_booking_conflicts_total",
        "booking_bookings_cancelled_total",
        "booking_idempotent_replays_total",
        "booking_login_failures_total",
        'booking_login_lockouts_total{scope="login_username"}',
        'booking_cache_lookups_total{cache="response",result="hit"}',
    ):
        assert f"\n{name}" in body
