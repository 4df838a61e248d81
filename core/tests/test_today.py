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

    assert (allowed.status_code, refused.status_code) == (200, 409)


# --- the listing's own today -----------------------------------------------------------------
# At 10:30 UTC on 1 June it is 2 June 00:30 at UTC+14 (Kiritimati) and 31 May 23:30 at UTC-11
# (Pago Pago); at 12:30 UTC it is 2 June 02:30 and 1 June 01:30.
JUST_PAST_KIRITIMATI_MIDNIGHT = datetime(2030, 6, 1, 10, 30, tzinfo=UTC)
JUST_PAST_PAGO_PAGO_MIDNIGHT = datetime(2030, 6, 1, 11, 30, tzinfo=UTC)
JUST_BEFORE_PAGO_PAGO_MIDNIGHT = datetime(2030, 6, 1, 10, 59, 59, tzinfo=UTC)


def _book(client, listing, check_in: str, check_out: str):
    return client.post(
        "/api/bookings/",
        {"property_id": listing.pk, "check_in": check_in, "check_out": check_out},
    )


@pytest.mark.parametrize(
    ("zone", "now", "today", "yesterday"),
    [
        ("Pacific/Kiritimati", JUST_PAST_KIRITIMATI_MIDNIGHT, "2030-06-02", "2030-06-01"),
        ("Pacific/Pago_Pago", JUST_BEFORE_PAGO_PAGO_MIDNIGHT, "2030-05-31", "2030-05-30"),
        ("Pacific/Pago_Pago", JUST_PAST_PAGO_PAGO_MIDNIGHT, "2030-06-01", "2030-05-31"),
    ],
)
def test_a_listing_judges_check_in_by_its_own_calendar(user, zone, now, today, yesterday):
    listing = PropertyFactory.create(time_zone=zone)

    with time_machine.travel(now, tick=False):
        client = client_for(user)
        refused = _book(client, listing, yesterday, today)
        accepted = _book(client, listing, today, "2030-06-05")
        search = client.get(
            "/api/properties/", {"check_in": today, "check_out": "2030-06-05"}
        ).json()
        search_yesterday = client.get(
            "/api/properties/", {"check_in": yesterday, "check_out": today}
        )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"check_in": ["Check-in cannot be in the past."]}
    assert accepted.status_code == 201
    # Booked now, so the search for the same nights no longer finds it...
    assert search["results"] == []
    # ...and the day before is in the past there, whatever other zones say.
    if search_yesterday.status_code == 200:
        assert search_yesterday.json()["results"] == []


def test_the_search_for_a_listing_s_today_finds_it_before_anyone_books(user):
    east = PropertyFactory.create(time_zone="Pacific/Kiritimati")
    west = PropertyFactory.create(time_zone="Pacific/Pago_Pago")

    with time_machine.travel(JUST_PAST_KIRITIMATI_MIDNIGHT, tick=False):
        client = client_for(user)
        june_2 = client.get(
            "/api/properties/", {"check_in": "2030-06-02", "check_out": "2030-06-03"}
        )
        may_31 = client.get(
            "/api/properties/", {"check_in": "2030-05-31", "check_out": "2030-06-01"}
        )
        june_1 = client.get(
            "/api/properties/", {"check_in": "2030-06-01", "check_out": "2030-06-02"}
        )

    def found(response):
        return sorted(row["id"] for row in response.json()["results"])

    # 2 June: today at Kiritimati, tomorrow at Pago Pago; 31 May: only Pago Pago's today;
    # 1 June: yesterday at Kiritimati.
    assert found(june_2) == sorted([east.pk, west.pk])
    assert found(may_31) == [west.pk]
    assert found(june_1) == [west.pk]


def test_cancelling_stops_when_the_check_in_day_comes_at_the_listing(user):
    listing = PropertyFactory.create(time_zone="Pacific/Kiritimati")
    booking = BookingFactory.create(
        property=listing, guest=user, check_in=date(2030, 6, 2), check_out=date(2030, 6, 4)
    )

    with time_machine.travel(datetime(2030, 6, 1, 9, 59, tzinfo=UTC), tick=False):
        client = client_for(user)
        preview = client.get(f"/api/bookings/{booking.pk}/")
    with time_machine.travel(JUST_PAST_KIRITIMATI_MIDNIGHT, tick=False):
        late = client_for(user).delete(f"/api/bookings/{booking.pk}/")

    assert preview.status_code == 200
    assert late.status_code == 409
    assert late.json()["code"] == "booking_not_cancellable"


def test_upcoming_is_judged_at_the_listing(user):
    east = PropertyFactory.create(time_zone="Pacific/Kiritimati")
    west = PropertyFactory.create(time_zone="Pacific/Pago_Pago")
    # Both check out on 1 June: over at Kiritimati (2 June there), not yet at Pago Pago.
    ended = BookingFactory.create(
        property=east, guest=user, check_in=date(2030, 5, 28), check_out=date(2030, 6, 1)
    )
    running = BookingFactory.create(
        property=west, guest=user, check_in=date(2030, 5, 28), check_out=date(2030, 6, 1)
    )

    with time_machine.travel(JUST_PAST_KIRITIMATI_MIDNIGHT, tick=False):
        response = client_for(user).get("/api/bookings/", {"upcoming": "true"})

    assert [row["id"] for row in response.json()["results"]] == [running.pk]
    assert ended.pk != running.pk


def test_the_calendar_starts_on_the_listing_s_today(api_client):
    listing = PropertyFactory.create(time_zone="Pacific/Kiritimati")
    BookingFactory.create(property=listing, check_in=date(2030, 6, 2), check_out=date(2030, 6, 3))

    with time_machine.travel(JUST_PAST_KIRITIMATI_MIDNIGHT, tick=False):
        response = api_client.get(
            f"/api/properties/{listing.pk}/availability/", {"to": "2030-06-03"}
        )

    assert response.json()["booked"] == [{"check_in": "2030-06-02", "check_out": "2030-06-03"}]


def test_every_zone_s_midnight_falls_on_a_quarter_hour_of_utc():
    # core.local_time groups zones by date once per quarter hour: true while every offset is a
    # multiple of 15 minutes.
    from core.local_time import _zones

    now = datetime.now(UTC)
    offsets = {name: now.astimezone(zone).utcoffset() for name, zone in _zones()}

    assert {name for name, offset in offsets.items() if offset is None} == set()
    assert {name for name, offset in offsets.items() if offset and offset.seconds % 900} == set()
