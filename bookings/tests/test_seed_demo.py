import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from bookings.models import Booking
from photos.models import Photo
from properties.models import Property
from rates.models import RateDay, RatePlan

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(
        Property.objects.order_by("pk").values_list(
            "owner__username", "title", "location", "price_per_night", "availability"
        )
    )


def _stays():
    return list(
        Booking.objects.order_by("pk").values_list(
            "property__title", "guest__username", "check_in", "check_out", "total_price"
        )
    )


def test_seed_demo_is_deterministic_for_a_seed():
    call_command("seed_demo", users=5, properties=40, bookings=60, seed=3, photos=0)
    first, first_stays = _snapshot(), _stays()
    Booking.objects.all().delete()
    Property.all_objects.all().delete()
    User.objects.all().delete()

    call_command("seed_demo", users=5, properties=40, bookings=60, seed=3, photos=0)

    assert User.objects.filter(username__startswith="demo_").count() == 5
    assert len(first) == 40
    assert _snapshot() == first
    assert len({location for _, _, location, _, _ in first}) > 3
    assert all(price > 0 for *_, price, _ in first)
    assert _stays() == first_stays
    assert 50 <= len(first_stays) <= 60
    # A fifth of the listings (here 7 of 40) have rates.
    assert 3 <= RatePlan.objects.count() <= 15
    assert RateDay.objects.count() == 14 * RatePlan.objects.count()


def test_seed_demo_bookings_never_overlap_nor_book_own_places():
    call_command("seed_demo", users=4, properties=3, bookings=200, seed=5)

    bookings = list(Booking.objects.select_related("property").order_by("property_id", "check_in"))
    assert bookings
    assert all(b.guest_id != b.property.owner_id for b in bookings)
    # Priced by rates.pricing like real bookings: the total is the sum of the stored lines.
    for booking in bookings:
        lines = (booking.price_lines or {})["lines"]
        assert booking.total_price == sum(Decimal(line["amount"]) for line in lines)
    for earlier, later in itertools.pairwise(bookings):
        if earlier.property_id == later.property_id:
            assert earlier.check_out <= later.check_in


def test_seed_demo_refuses_to_seed_twice():
    call_command("seed_demo", users=2, properties=1, bookings=0)

    with pytest.raises(CommandError):
        call_command("seed_demo", users=2, properties=1, bookings=0)

    assert Property.objects.count() == 1


def test_seed_demo_gives_the_first_listings_three_generated_photos(settings):
    call_command("seed_demo", users=2, properties=4, bookings=0, photos=2, seed=1)

    first_two = list(Property.objects.order_by("pk").values_list("pk", flat=True)[:2])
    photos = list(Photo.objects.order_by("property_id", "position"))
    assert [(p.property_id, p.position, p.caption) for p in photos] == [
        (pk, position, caption)
        for pk in first_two
        for position, caption in enumerate(("Living room", "Bedroom", "View"))
    ]
    assert all(
        [r["name"] for r in photo.renditions] == ["320", "720", "original"] for photo in photos
    )
    stored = [path for path in Path(settings.MEDIA_ROOT).rglob("*.jpg")]
    assert len(stored) == 6 * 3


def test_seed_demo_makes_listings_a_search_page_can_use():
    call_command("seed_demo", users=5, properties=60, bookings=80, seed=4, photos=0)

    listings = list(Property.objects.prefetch_related("amenities"))
    assert len({listing.city for listing in listings}) > 10
    for listing in listings:
        listing.full_clean()  # every field rule, the time zone and country included
        assert listing.latitude is not None
        assert listing.longitude is not None
        assert listing.search_text
        assert listing.city_key
        assert 3 <= len(listing.amenities.all()) <= 13
    for booking in Booking.objects.select_related("property"):
        assert 1 <= booking.guests <= booking.property.max_guests
        assert booking.currency == booking.property.currency
