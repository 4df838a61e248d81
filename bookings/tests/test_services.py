from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from bookings.services import booking_cancel, booking_create
from bookings.tests.factories import BookingFactory
from core.exceptions import BookingConflict, BookingNotCancellable, NotFound, PropertyUnavailable
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def days(n: int):
    return utc_today() + timedelta(days=n)


def test_booking_is_confirmed_at_nights_times_price():
    listing = PropertyFactory.create(price_per_night=Decimal("75.00"))
    guest = UserFactory.create()

    booking = booking_create(
        guest=guest, property_id=listing.pk, check_in=days(10), check_out=days(14)
    )

    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.nights, booking.total_price) == (4, Decimal("300.00"))
    assert (booking.guest, booking.property) == (guest, listing)


def test_total_price_is_exact_for_fractional_prices():
    listing = PropertyFactory.create(price_per_night=Decimal("33.33"))

    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=days(1), check_out=days(4)
    )

    assert booking.total_price == Decimal("99.99")


def test_a_later_price_change_does_not_alter_the_total():
    listing = PropertyFactory.create(price_per_night=Decimal("75.00"))
    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=days(1), check_out=days(3)
    )

    listing.price_per_night = Decimal("500.00")
    listing.save()

    booking.refresh_from_db()
    assert booking.total_price == Decimal("150.00")


def test_one_night_stay_from_today_is_allowed():
    listing = PropertyFactory.create()

    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=days(0), check_out=days(1)
    )

    assert booking.nights == 1


def test_365_nights_is_the_longest_stay():
    listing = PropertyFactory.create()

    booking = booking_create(
        guest=UserFactory.create(), property_id=listing.pk, check_in=days(1), check_out=days(366)
    )

    assert booking.nights == 365


@pytest.mark.parametrize(
    ("check_in", "check_out", "field"),
    [
        (5, 5, "check_out"),  # zero nights
        (5, 4, "check_out"),  # backwards
        (-1, 2, "check_in"),  # in the past
        (1, 367, "check_out"),  # 366 nights
    ],
)
def test_bad_dates_are_a_validation_error_and_write_nothing(check_in, check_out, field):
    listing = PropertyFactory.create()

    with pytest.raises(ValidationError) as caught:
        booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=days(check_in),
            check_out=days(check_out),
        )

    assert field in caught.value.message_dict
    assert Booking.objects.count() == 0


def test_unknown_property_names_property_id():
    with pytest.raises(ValidationError) as caught:
        booking_create(
            guest=UserFactory.create(), property_id=999999, check_in=days(1), check_out=days(2)
        )

    assert caught.value.message_dict == {"property_id": ["No property with this id."]}


def test_deleted_property_cannot_be_booked():
    listing = PropertyFactory.create()
    listing.deleted_at = listing.created_at
    listing.save()

    with pytest.raises(ValidationError) as caught:
        booking_create(
            guest=UserFactory.create(), property_id=listing.pk, check_in=days(1), check_out=days(2)
        )

    assert list(caught.value.message_dict) == ["property_id"]
    assert Booking.objects.count() == 0


def test_owner_cannot_book_their_own_property():
    listing = PropertyFactory.create()

    with pytest.raises(ValidationError) as caught:
        booking_create(
            guest=listing.owner, property_id=listing.pk, check_in=days(1), check_out=days(2)
        )

    assert caught.value.message_dict == {"property_id": ["You cannot book your own property."]}
    assert Booking.objects.count() == 0


def test_unavailable_property_is_a_conflict():
    listing = PropertyFactory.create(availability=False)

    with pytest.raises(PropertyUnavailable):
        booking_create(
            guest=UserFactory.create(), property_id=listing.pk, check_in=days(1), check_out=days(2)
        )

    assert Booking.objects.count() == 0


@pytest.mark.parametrize(
    ("check_in", "check_out"),
    [(30, 33), (29, 31), (32, 35), (31, 32), (25, 40)],  # same, start, end, inside, around
)
def test_overlapping_stay_is_a_conflict_and_writes_nothing(check_in, check_out):
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    with pytest.raises(BookingConflict):
        booking_create(
            guest=UserFactory.create(),
            property_id=first.property_id,
            check_in=days(check_in),
            check_out=days(check_out),
        )

    assert list(Booking.objects.all()) == [first]


def test_same_guest_double_booking_is_a_conflict():
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    with pytest.raises(BookingConflict):
        booking_create(
            guest=first.guest, property_id=first.property_id, check_in=days(31), check_out=days(34)
        )

    assert Booking.objects.count() == 1


def test_back_to_back_stays_do_not_overlap():
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    before = booking_create(
        guest=UserFactory.create(),
        property_id=first.property_id,
        check_in=days(27),
        check_out=days(30),
    )
    after = booking_create(
        guest=UserFactory.create(),
        property_id=first.property_id,
        check_in=days(33),
        check_out=days(35),
    )

    assert Booking.objects.filter(status="confirmed").count() == 3
    assert (before.check_out, after.check_in) == (first.check_in, first.check_out)


def test_same_dates_at_another_property_are_fine():
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    other = booking_create(
        guest=first.guest,
        property_id=PropertyFactory.create().pk,
        check_in=days(30),
        check_out=days(33),
    )

    assert other.status == "confirmed"


def test_cancelled_stays_do_not_block_the_dates():
    first = BookingFactory.create(
        check_in=days(30), check_out=days(33), status=Booking.Status.CANCELLED
    )

    booking = booking_create(
        guest=UserFactory.create(),
        property_id=first.property_id,
        check_in=days(30),
        check_out=days(33),
    )

    assert booking.status == "confirmed"


def test_cancel_frees_the_dates_for_a_new_booking():
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    cancelled = booking_cancel(guest=first.guest, booking_id=first.pk)
    rebooked = booking_create(
        guest=UserFactory.create(),
        property_id=first.property_id,
        check_in=days(30),
        check_out=days(33),
    )

    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert rebooked.status == "confirmed"


def test_someone_elses_booking_is_not_found_and_unchanged():
    booking = BookingFactory.create()

    with pytest.raises(NotFound):
        booking_cancel(guest=UserFactory.create(), booking_id=booking.pk)

    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_cancelling_twice_answers_the_first_cancellation():
    booking = BookingFactory.create()
    first = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    again = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert (again.status, again.cancelled_at) == ("cancelled", first.cancelled_at)
    assert booking.transitions.count() == 1


@pytest.mark.parametrize("start", [0, -2])
def test_a_stay_whose_check_in_day_has_come_cannot_be_cancelled(start):
    booking = BookingFactory.create(check_in=days(start), check_out=days(start + 3))

    with pytest.raises(BookingNotCancellable, match="check-in day has come"):
        booking_cancel(guest=booking.guest, booking_id=booking.pk)

    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_database_refuses_check_out_before_check_in():
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory.create(check_in=days(5), check_out=days(5))


def test_database_refuses_overlapping_stays_written_directly(db):
    """The holds table's exclusion constraint (calendars 0002), whatever writes the rows: here
    the factory, which holds a confirmed booking's nights as booking_create does."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(
            "the exclusion constraint exists on PostgreSQL only; SQLite relies on the write lock"
        )
    first = BookingFactory.create(check_in=days(30), check_out=days(33))

    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory.create(property=first.property, check_in=days(32), check_out=days(34))

    BookingFactory.create(
        property=first.property, check_in=days(32), check_out=days(34), status="cancelled"
    )
    assert Booking.objects.filter(status="confirmed").count() == 1


def test_exclusion_violation_is_reported_as_a_conflict(monkeypatch):
    """Even when the pre-check misses the overlap (a writer that skipped the lock), the
    database's refusal becomes a BookingConflict, never a 500."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    first = BookingFactory.create(check_in=days(30), check_out=days(33))
    monkeypatch.setattr("calendars.services._free_nights_or_raise", lambda **kwargs: None)

    with pytest.raises(BookingConflict):
        booking_create(
            guest=UserFactory.create(),
            property_id=first.property_id,
            check_in=days(31),
            check_out=days(32),
        )

    assert list(Booking.objects.all()) == [first]
