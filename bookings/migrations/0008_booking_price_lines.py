from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0007_confirmed_bookings_hold_their_nights"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="price_lines",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
    ]
