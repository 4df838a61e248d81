from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0005_booking_currency_from_listing"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="price_lines",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
