"""Every confirmed booking gets the calendars.Hold of its nights: from now on the holds table is
where "taken" is decided. Cancelled bookings hold nothing."""

from django.db import migrations

BATCH = 2000


def hold_confirmed_nights(apps, schema_editor):
    Booking = apps.get_model("bookings", "Booking")
    Hold = apps.get_model("calendars", "Hold")
    pending = Booking.objects.filter(status="confirmed", hold__isnull=True).order_by("pk")
    while True:
        batch = list(pending.only("pk", "property_id", "check_in", "check_out")[:BATCH])
        if not batch:
            return
        holds = Hold.objects.bulk_create(
            Hold(property_id=b.property_id, kind="booking", start=b.check_in, end=b.check_out)
            for b in batch
        )
        for booking, hold in zip(batch, holds, strict=True):
            booking.hold_id = hold.pk
        Booking.objects.bulk_update(batch, ["hold"])


def release_holds(apps, schema_editor):
    Hold = apps.get_model("calendars", "Hold")
    Hold.objects.filter(kind="booking").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0006_booking_hold"),
        ("calendars", "0002_no_night_held_twice"),
    ]

    operations = [migrations.RunPython(hold_confirmed_nights, release_holds)]
