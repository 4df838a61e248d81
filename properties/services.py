from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.selectors import booking_upcoming_exists
from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import NotFound, PropertyHasUpcomingBookings
from core.local_time import is_time_zone
from core.text import fold
from photos.services import photo_delete_all
from properties.amenities import AMENITIES
from properties.geography import place_from_location, time_zone_at
from properties.models import (
    BOOKING_FIELDS,
    CAPACITY_FIELDS,
    HOUSE_RULE_FIELDS,
    PLACE_FIELDS,
    Amenity,
    Property,
)

# What a host may set besides the seed's five fields; all optional (the model has defaults).
DETAIL_FIELDS = ("currency", *BOOKING_FIELDS, *CAPACITY_FIELDS, *HOUSE_RULE_FIELDS, *PLACE_FIELDS)
UPDATABLE_FIELDS = (
    "title",
    "description",
    "price_per_night",
    "location",
    "availability",
    *DETAIL_FIELDS,
)


def amenity_vocabulary_ensure() -> None:
    """Add any entry of the shipped vocabulary that is missing (by code); never changes or
    removes an entry an operator edited."""
    Amenity.objects.bulk_create(
        [Amenity(code=code, name=name, category=category) for code, name, category in AMENITIES],
        ignore_conflicts=True,
    )


def property_place_fill(*, listing: Property, time_zone_given: bool) -> None:
    """Fill what the host left blank of the listing's place, never overriding what they gave:
    the city, country and (city-centre) coordinates from the gazetteer when `location` names a
    city it knows; the time zone, unless given, from the coordinates, else the gazetteer's city,
    else LISTING_DEFAULT_TIME_ZONE."""
    city, country = place_from_location(listing.location)
    if city is not None and listing.city and fold(listing.city) != fold(city.name):
        city = None  # the host named another city: the gazetteer's guess does not apply
    if not listing.city and city is not None:
        listing.city = city.name
    if not listing.country and country:
        listing.country = country
    if listing.latitude is None and city is not None and listing.country == city.country:
        listing.latitude, listing.longitude = city.latitude, city.longitude
    if not time_zone_given:
        zone = None
        if listing.latitude is not None and listing.longitude is not None:
            zone = time_zone_at(latitude=listing.latitude, longitude=listing.longitude)
            if zone is not None and not is_time_zone(zone):
                zone = None  # a name this Python's zone database does not know
        if zone is None and city is not None:
            zone = city.time_zone
        listing.time_zone = zone or settings.LISTING_DEFAULT_TIME_ZONE


def property_create(
    *,
    owner: User,
    title: str,
    price_per_night: Decimal,
    location: str,
    description: str = "",
    availability: bool = True,
    amenities: list[Amenity] | None = None,
    **details,
) -> Property:
    """List a new property owned by `owner`, in DEFAULT_CURRENCY unless `details` names one;
    `details` are any of DETAIL_FIELDS."""
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"property_create() got unexpected fields: {sorted(unknown)}")
    details.setdefault("currency", settings.DEFAULT_CURRENCY)
    listing = Property(
        owner=owner,
        title=title,
        description=description,
        price_per_night=price_per_night,
        location=location,
        availability=availability,
        **details,
    )
    property_place_fill(listing=listing, time_zone_given="time_zone" in details)
    with transaction.atomic():
        listing.save()
        if amenities:
            listing.amenities.set(amenities)
        cache_generations_forget_on_commit(LISTINGS)
    return listing


def property_update(
    *, listing: Property, amenities: list[Amenity] | None = None, **changes
) -> Property:
    """Change any of UPDATABLE_FIELDS (and the amenity set, when given); the owner never
    changes. New coordinates bring a new time zone unless one is given too; a new `location`
    with no other place field re-reads the whole place from it, as on creation. Bookings
    already made keep the price and currency they were confirmed at."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise TypeError(f"property_update() got unexpected fields: {sorted(unknown)}")
    with transaction.atomic():
        # The row as it is now, locked (property_delete and bookings take the same lock): a
        # write read before a concurrent delete or edit must not save its stale columns back.
        current = Property.objects.select_for_update().filter(pk=listing.pk).first()
        if current is None:
            raise NotFound()  # unlisted meanwhile
        listing = current
        _property_apply(listing=listing, changes=changes)
        listing.save()
        if amenities is not None:
            listing.amenities.set(amenities)
        cache_generations_forget_on_commit(LISTINGS)
    return listing


def _property_apply(*, listing: Property, changes: dict) -> None:
    moved = any(
        field in changes and changes[field] != getattr(listing, field)
        for field in ("latitude", "longitude")
    )
    relocated = changes.get("location", listing.location) != listing.location and not (
        set(changes) & set(PLACE_FIELDS)
    )
    for field, value in changes.items():
        setattr(listing, field, value)
    if relocated:
        listing.city, listing.country, listing.latitude, listing.longitude = "", "", None, None
    property_place_fill(
        listing=listing, time_zone_given="time_zone" in changes or not (moved or relocated)
    )


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
