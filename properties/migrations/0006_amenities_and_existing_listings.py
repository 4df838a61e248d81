"""Seed the amenity vocabulary, and give every existing listing what 0004 added: its currency
(DEFAULT_CURRENCY), and from its `location` line the city, country, coordinates and time zone
the gazetteer knows (properties/geography.py), else LISTING_DEFAULT_TIME_ZONE; and the folded
search columns. Nothing is lost: `location` stays as it was."""

from django.conf import settings
from django.db import migrations


def forwards(apps, schema_editor):
    from core.text import fold
    from properties.amenities import AMENITIES
    from properties.geography import place_from_location

    Amenity = apps.get_model("properties", "Amenity")
    Amenity.objects.bulk_create(
        [Amenity(code=code, name=name, category=category) for code, name, category in AMENITIES]
    )

    Property = apps.get_model("properties", "Property")
    batch = []
    for listing in Property.objects.all().iterator(chunk_size=2000):
        city, country = place_from_location(listing.location)
        listing.currency = settings.DEFAULT_CURRENCY
        listing.country = country or ""
        if city is not None:
            listing.city = city.name
            listing.latitude, listing.longitude = city.latitude, city.longitude
            listing.time_zone = city.time_zone
        else:
            listing.time_zone = settings.LISTING_DEFAULT_TIME_ZONE
        listing.city_key = fold(listing.city)
        listing.search_text = fold(
            " ".join((listing.title, listing.description, listing.location, listing.city))
        )
        batch.append(listing)
        if len(batch) == 2000:
            _save(Property, batch)
            batch = []
    _save(Property, batch)


def _save(Property, batch):
    Property.objects.bulk_update(
        batch,
        [
            "currency",
            "country",
            "city",
            "latitude",
            "longitude",
            "time_zone",
            "city_key",
            "search_text",
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("properties", "0005_listing_content")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
