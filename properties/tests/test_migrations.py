"""Existing listings and bookings go through the listing-content migrations without loss."""

from decimal import Decimal

import pytest

from conftest import migrate_to

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("properties", "0004_visible_text"), ("bookings", "0003_idempotency_key")]


def test_existing_rows_are_migrated_without_loss(settings):
    settings.DEFAULT_CURRENCY = "EUR"
    settings.LISTING_DEFAULT_TIME_ZONE = "America/Lima"
    old = migrate_to(BEFORE)
    User = old.get_model("accounts", "User")
    Property = old.get_model("properties", "Property")
    Booking = old.get_model("bookings", "Booking")
    host = User.objects.create(username="host", email="host@example.com")
    guest = User.objects.create(username="guest", email="guest@example.com")
    nairobi = Property.objects.create(
        owner=host, title="Modern Studio", price_per_night=Decimal("75"), location="Nairobi, Kenya"
    )
    Property.objects.create(
        owner=host, title="Hut", price_per_night=Decimal("20"), location="Far from everything"
    )
    Booking.objects.create(
        property=nairobi,
        guest=guest,
        check_in="2031-01-01",
        check_out="2031-01-03",
        total_price=Decimal("150"),
    )

    new = migrate_to()

    Property = new.get_model("properties", "Property")
    Booking = new.get_model("bookings", "Booking")
    migrated = {p.title: p for p in Property.objects.all()}
    studio, hut = migrated["Modern Studio"], migrated["Hut"]
    assert (studio.location, studio.price_per_night) == ("Nairobi, Kenya", Decimal("75.00"))
    assert (studio.city, studio.country, studio.time_zone) == ("Nairobi", "KE", "Africa/Nairobi")
    assert (studio.currency, studio.search_text) == (
        "EUR",
        "modern studio nairobi, kenya nairobi",
    )
    assert studio.latitude == Decimal("-1.283330")
    assert (hut.city, hut.country, hut.latitude, hut.time_zone) == ("", "", None, "America/Lima")
    booking = Booking.objects.get()
    assert (booking.guests, booking.currency, booking.total_price) == (1, "EUR", Decimal("150"))
    assert new.get_model("properties", "Amenity").objects.filter(code="wifi").exists()
    # The lifecycle: the policy it was booked under, and a history (made before one was kept).
    assert (booking.status, booking.cancellation_policy) == ("confirmed", "flexible")
    assert str(booking.policy_check_in) == "2031-01-01"
    transitions = new.get_model("bookings", "BookingTransition").objects.filter(booking=booking)
    assert list(transitions.values_list("from_status", "to_status", "actor_role")) == [
        ("", "confirmed", "guest")
    ]
