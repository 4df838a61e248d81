"""Existing bookings were made in their listing's currency (0005 of properties set it)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def forwards(apps, schema_editor):
    Booking = apps.get_model("bookings", "Booking")
    Property = apps.get_model("properties", "Property")
    Booking.objects.update(
        currency=Subquery(
            Property.objects.filter(pk=OuterRef("property_id")).values("currency")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_booking_guests_and_currency"),
        ("properties", "0006_amenities_and_existing_listings"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
