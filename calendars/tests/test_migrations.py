"""Bookings made before the holds table get the holds of their nights."""

from decimal import Decimal

import pytest

from conftest import migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("bookings", "0006_booking_hold")]
AFTER = [("bookings", "0007_confirmed_bookings_hold_their_nights")]


def test_confirmed_bookings_get_their_holds_and_cancelled_ones_none():
    old = migrate_to(BEFORE)
    User = old.get_model("accounts", "User")
    Property = old.get_model("properties", "Property")
    Booking = old.get_model("bookings", "Booking")
    host = User.objects.create(username="host", email="host@example.com")
    guest = User.objects.create(username="guest", email="guest@example.com")
    listing = Property.objects.create(
        owner=host, title="Hut", price_per_night=Decimal("20"), location="Somewhere"
    )
    stay = {"property": listing, "guest": guest, "total_price": Decimal("40")}
    Booking.objects.create(**stay, check_in="2031-01-01", check_out="2031-01-03")
    Booking.objects.create(
        **stay, check_in="2031-01-02", check_out="2031-01-04", status="cancelled"
    )
    Booking.objects.create(**stay, check_in="2031-01-03", check_out="2031-01-05")

    new = migrate_to(AFTER)

    Booking = new.get_model("bookings", "Booking")
    holds = {
        str(b.check_in): (b.hold.kind, str(b.hold.start), str(b.hold.end)) if b.hold else None
        for b in Booking.objects.select_related("hold")
    }
    assert holds == {
        "2031-01-01": ("booking", "2031-01-01", "2031-01-03"),
        "2031-01-02": None,
        "2031-01-03": ("booking", "2031-01-03", "2031-01-05"),
    }
    migrate_to()
