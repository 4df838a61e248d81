"""Host blocks and the one-holder-per-night rule they share with bookings."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from bookings.tests.factories import BookingFactory
from calendars.models import Hold
from calendars.services import (
    block_create,
    block_delete,
    hold_create,
    hold_keep,
    hold_move,
)
from conftest import client_for
from core.exceptions import BookingConflict, NightsTaken, NotFound
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def day(n: int):
    return utc_today() + timedelta(days=n)


def test_block_holds_nights_and_a_booking_over_them_is_a_conflict():
    listing = PropertyFactory.create()
    block_create(owner=listing.owner, property_id=listing.pk, start=day(10), end=day(12))

    with pytest.raises(BookingConflict, match="blocked by the host"):
        booking_create(
            guest=UserFactory.create(), property_id=listing.pk, check_in=day(11), check_out=day(14)
        )
    assert not Booking.objects.exists()


def test_block_over_a_booked_night_names_the_booking_dates_not_the_guest():
    booking = BookingFactory.create(check_in=day(20), check_out=day(23))

    with pytest.raises(NightsTaken) as raised:
        block_create(
            owner=booking.property.owner,
            property_id=booking.property_id,
            start=day(22),
            end=day(25),
        )

    message = str(raised.value)
    assert f"from {day(20)} to {day(23)}" in message
    assert "booked" in message
    assert booking.guest.username not in message
    assert booking.guest.email not in message
    assert Hold.objects.filter(kind=Hold.Kind.BLOCK).count() == 0


def test_back_to_back_block_and_stay_share_no_night():
    listing = PropertyFactory.create()
    block_create(owner=listing.owner, property_id=listing.pk, start=day(10), end=day(12))
    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=day(12), check_out=day(14)
    )
    block_create(owner=listing.owner, property_id=listing.pk, start=day(14), end=day(15))

    assert booking.hold is not None
    assert list(Hold.objects.order_by("start").values_list("kind", "start", "end")) == [
        ("block", day(10), day(12)),
        ("booking", day(12), day(14)),
        ("block", day(14), day(15)),
    ]


def test_cancelling_a_booking_frees_its_nights_for_a_block():
    booking = booking_create(
        guest=UserFactory.create(),
        property_id=PropertyFactory.create().pk,
        check_in=day(5),
        check_out=day(8),
    )
    booking_cancel(guest=booking.guest, booking_id=booking.pk)

    block = block_create(
        owner=booking.property.owner, property_id=booking.property_id, start=day(5), end=day(8)
    )

    booking.refresh_from_db()
    assert booking.hold is None
    assert Hold.objects.get() == block


def test_unblocking_frees_the_nights():
    listing = PropertyFactory.create()
    block = block_create(owner=listing.owner, property_id=listing.pk, start=day(3), end=day(6))

    block_delete(owner=listing.owner, property_id=listing.pk, block_id=block.pk)

    assert (
        booking_create(
            guest=UserFactory.create(), property_id=listing.pk, check_in=day(3), check_out=day(6)
        ).hold
        is not None
    )


def test_only_the_owner_blocks_or_unblocks():
    listing = PropertyFactory.create()
    block = block_create(owner=listing.owner, property_id=listing.pk, start=day(3), end=day(6))
    stranger = UserFactory.create()

    with pytest.raises(NotFound):
        block_create(owner=stranger, property_id=listing.pk, start=day(8), end=day(9))
    with pytest.raises(NotFound):
        block_delete(owner=stranger, property_id=listing.pk, block_id=block.pk)
    assert list(Hold.objects.all()) == [block]


def test_a_void_request_never_blocks_anyone():
    """A pending request's hold past its expiry holds nothing: the next write on the listing
    removes it, with no job run."""
    listing = PropertyFactory.create()
    stale = hold_create(
        listing=listing,
        start=day(4),
        end=day(7),
        kind=Hold.Kind.BOOKING,
        expires_at=timezone.now() - timedelta(seconds=1),
    )

    block = block_create(owner=listing.owner, property_id=listing.pk, start=day(5), end=day(6))

    assert list(Hold.objects.all()) == [block]
    assert not Hold.objects.filter(pk=stale.pk).exists()


def test_a_live_request_holds_its_nights():
    listing = PropertyFactory.create()
    hold_create(
        listing=listing,
        start=day(4),
        end=day(7),
        kind=Hold.Kind.BOOKING,
        expires_at=timezone.now() + timedelta(hours=1),
    )

    with pytest.raises(NightsTaken):
        block_create(owner=listing.owner, property_id=listing.pk, start=day(5), end=day(6))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [(-5, -1, "end"), (-5, 0, "end"), (0, 367, "end"), (731, 733, "start")],
)
def test_block_range_rules(start, end, field):
    listing = PropertyFactory.create(time_zone="UTC")

    with pytest.raises(ValidationError) as raised:
        block_create(owner=listing.owner, property_id=listing.pk, start=day(start), end=day(end))

    assert field in raised.value.message_dict
    assert not Hold.objects.exists()


def test_database_refuses_two_holds_on_one_night():
    """PostgreSQL's exclusion constraint, whatever the code path (here a bare ORM write)."""
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    from django.db import IntegrityError

    listing = PropertyFactory.create()
    Hold.objects.create(property=listing, kind="block", start=day(3), end=day(6))

    with pytest.raises(IntegrityError):
        Hold.objects.create(property=listing, kind="import", start=day(5), end=day(7))


# --- API ----------------------------------------------------------------------------------


def test_api_block_list_and_unblock(django_assert_num_queries):
    listing = PropertyFactory.create()
    host = client_for(listing.owner)

    created = host.post(
        f"/api/properties/{listing.pk}/blocks/",
        {"start": str(day(3)), "end": str(day(6)), "note": "Painters"},
    )
    assert created.status_code == 201
    assert created.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "start": str(day(3)),
        "end": str(day(6)),
        "note": "Painters",
        "created_at": "",
    }
    with django_assert_num_queries(3):  # user, listing's owner, blocks
        listed = host.get(f"/api/properties/{listing.pk}/blocks/")
    assert [b["id"] for b in listed.json()] == [created.json()["id"]]

    taken = client_for(UserFactory.create()).get(f"/api/properties/{listing.pk}/availability/")
    assert taken.json()["booked"] == [{"check_in": str(day(3)), "check_out": str(day(6))}]

    gone = host.delete(f"/api/properties/{listing.pk}/blocks/{created.json()['id']}/")
    assert gone.status_code == 204
    assert not Hold.objects.exists()


def test_api_block_over_booking_is_409_with_code():
    booking = BookingFactory.create(check_in=day(20), check_out=day(23))

    response = client_for(booking.property.owner).post(
        f"/api/properties/{booking.property_id}/blocks/",
        {"start": str(day(21)), "end": str(day(22))},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "nights_taken"
    assert str(day(20)) in response.json()["detail"]


def test_api_blocks_are_the_owners_only():
    listing = PropertyFactory.create()
    block = Hold.objects.create(property=listing, kind="block", start=day(3), end=day(6))
    stranger = client_for(UserFactory.create())

    assert stranger.get(f"/api/properties/{listing.pk}/blocks/").status_code == 403
    response = stranger.post(
        f"/api/properties/{listing.pk}/blocks/", {"start": str(day(8)), "end": str(day(9))}
    )
    assert response.status_code == 403
    assert stranger.delete(f"/api/properties/{listing.pk}/blocks/{block.pk}/").status_code == 403
    assert APIClient().get(f"/api/properties/{listing.pk}/blocks/").status_code == 401
    assert list(Hold.objects.all()) == [block]


def test_api_block_end_before_start_is_400():
    listing = PropertyFactory.create()

    response = client_for(listing.owner).post(
        f"/api/properties/{listing.pk}/blocks/", {"start": str(day(8)), "end": str(day(8))}
    )

    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_cancelled_booking_needs_no_hold():
    booking = BookingFactory.create(status="cancelled")
    assert booking.hold is None


def test_moving_a_request_s_hold_keeps_its_expiry_until_it_is_kept():
    listing = PropertyFactory.create()
    deadline = timezone.now() + timedelta(hours=5)
    hold = hold_create(
        listing=listing, start=day(4), end=day(7), kind=Hold.Kind.BOOKING, expires_at=deadline
    )

    hold_move(hold=hold, start=day(5), end=day(8))
    assert Hold.objects.get().expires_at == deadline
    hold_keep(hold=hold)
    assert Hold.objects.values_list("start", "end", "expires_at").get() == (day(5), day(8), None)
