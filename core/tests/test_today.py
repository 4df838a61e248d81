"""Today is the UTC date, whatever TIME_ZONE says: pinned near UTC midnight."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from bookings.tests.factories import BookingFactory
from conftest import client_for
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

# 23:30 UTC on 1 June is already 2 June in Kiribati (UTC+14) and still 1 June in UTC.
LATE_UTC = datetime(2030, 6, 1, 23, 30, tzinfo=UTC)


@pytest.fixture
def far_east(settings):
    settings.TIME_ZONE = "Pacific/Kiritimati"


def test_utc_today_ignores_the_local_time_zone(far_east):
    with time_machine.travel(LATE_UTC, tick=False):
        assert utc_today() == date(2030, 6, 1)


def test_booking_today_utc_is_allowed_and_yesterday_utc_is_not(far_east, user):
    listing = PropertyFactory.create()

    with time_machine.travel(LATE_UTC, tick=False):
        auth_client = client_for(user)  # a token issued in the travelled-to present
        today = auth_client.post(
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": "2030-06-01", "check_out": "2030-06-02"},
        )
        yesterday = auth_client.post(
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": "2030-05-31", "check_out": "2030-06-01"},
        )

    assert today.status_code == 201
    assert yesterday.status_code == 400
    assert list(yesterday.json()["errors"]) == ["check_in"]


def test_cancel_is_refused_from_the_utc_check_in_day(far_east):
    with time_machine.travel(LATE_UTC, tick=False):
        tomorrow = BookingFactory.create(check_in=date(2030, 6, 2), check_out=date(2030, 6, 4))
        today = BookingFactory.create(check_in=date(2030, 6, 1), check_out=date(2030, 6, 4))

        allowed = client_for(tomorrow.guest).delete(f"/api/bookings/{tomorrow.pk}/")
        refused = client_for(today.guest).delete(f"/api/bookings/{today.pk}/")

    assert (allowed.status_code, refused.status_code) == (204, 409)
