"""A storm of bookings and host blocks on the same nights ends with exactly one holder per night,
on SQLite (write lock) and PostgreSQL (row lock plus exclusion constraint)."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from calendars.models import Hold
from conftest import client_for, run_simultaneously
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)

STORM = 24


def day(n: int) -> str:
    return str(utc_today() + timedelta(days=n))


def _status(client, path: str, body: dict) -> int:
    return client.post(path, body).status_code


def test_storm_of_bookings_and_blocks_leaves_one_holder_per_night():
    listing = PropertyFactory.create()
    host = client_for(listing.owner)
    guests = [client_for(UserFactory.create()) for _ in range(STORM // 2)]
    # Every request shares the night of day 12 with every other.
    calls: list[Callable[[], int]] = []
    for i, guest in enumerate(guests):
        body = {"property_id": listing.pk, "check_in": day(10 + i % 3), "check_out": day(13)}
        block = {"start": day(11 + i % 2), "end": day(14)}
        calls.append(partial(_status, guest, "/api/bookings/", body))
        calls.append(partial(_status, host, f"/api/properties/{listing.pk}/blocks/", block))

    statuses = run_simultaneously(calls)

    assert sorted(statuses) in ([201] + [409] * (STORM - 1),)
    holds = list(Hold.objects.filter(property=listing))
    assert len(holds) == 1
    confirmed = Booking.objects.filter(property=listing, status="confirmed")
    if holds[0].kind == Hold.Kind.BOOKING:
        assert confirmed.get().hold == holds[0]
    else:
        assert not confirmed.exists()
    assert Booking.objects.count() == confirmed.count()
