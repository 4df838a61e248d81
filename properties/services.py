from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.selectors import booking_upcoming_exists
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import PropertyHasUpcomingBookings
from photos.services import photo_delete_all
from properties.models import Property


def property_create(
    *,
    owner: User,
    title: str,
    price_per_night: Decimal,
    location: str,
    description: str = "",
    availability: bool = True,
) -> Property:
    """List a new property owned by `owner`."""
    with transaction.atomic():
        listing = Property.objects.create(
            owner=owner,
            title=title,
            description=description,
            price_per_night=price_per_night,
            location=location,
            availability=availability,
        )
        cache_generations_forget_on_commit(LISTINGS)
    return listing


UPDATABLE_FIELDS = ("title", "description", "price_per_night", "location", "availability")


def property_update(*, listing: Property, **changes) -> Property:
    """Change any of the editable fields; the owner never changes. Bookings already made keep
    the total price they were confirmed at."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"property_update() got unexpected fields: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(listing, field, value)
    listing.save(update_fields=[*changes, "updated_at"])
    cache_generations_forget_on_commit(LISTINGS)
    return listing


def property_delete(*, listing: Property) -> None:
    """Unlist a property (soft delete: see Property) and remove its photos (their files once
    the transaction commits). Raises PropertyHasUpcomingBookings while a confirmed stay has not
    ended: guests must not lose a place they are counting on."""
    with transaction.atomic():
        # The same lock booking_create takes: no booking can slip in between check and delete.
        listing = Property.objects.select_for_update().get(pk=listing.pk)
        if booking_upcoming_exists(property_id=listing.pk):
            raise PropertyHasUpcomingBookings()
        listing.deleted_at = timezone.now()
        listing.save(update_fields=["deleted_at", "updated_at"])
        photo_delete_all(listing=listing)
        cache_generations_forget_on_commit(LISTINGS)
