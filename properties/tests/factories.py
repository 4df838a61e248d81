from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from properties.models import Property


class PropertyFactory(factory.django.DjangoModelFactory[Property]):
    class Meta:
        model = Property

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Property {n}")
    description = "A nice apartment in the city center."
    price_per_night = Decimal("75.00")
    location = "Nairobi, Kenya"
    availability = True
    city = "Nairobi"
    country = "KE"
    # UTC, not Nairobi's zone: tests count days from utc_today(); the local-today tests set
    # their own zones.
    time_zone = "UTC"


def admin_change_form(listing: Property, **changes) -> dict:
    """The admin's change form for `listing` as a browser would post it, with `changes`."""
    data = {
        "owner": listing.owner_id,
        "title": listing.title,
        "description": listing.description,
        "price_per_night": str(listing.price_per_night),
        "currency": listing.currency,
        "cancellation_policy": listing.cancellation_policy,
        "location": listing.location,
        "room_type": listing.room_type,
        "property_type": listing.property_type,
        "max_guests": listing.max_guests,
        "bedrooms": listing.bedrooms,
        "beds": listing.beds,
        "bathrooms": str(listing.bathrooms),
        "check_in_from": listing.check_in_from.strftime("%H:%M"),
        "check_out_until": listing.check_out_until.strftime("%H:%M"),
        "time_zone": listing.time_zone,
        "country": listing.country,
        "city": listing.city,
    }
    if listing.availability:
        data["availability"] = "on"
    if listing.instant_book:
        data["instant_book"] = "on"
    data.update(changes)
    return data
