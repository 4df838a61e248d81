"""PostgreSQL only: the bookings table's own no-overlap constraint (0002) goes. Since
calendars.Hold, every night a listing has taken (stays, requests, blocks, imported events) is
one row there, under one exclusion constraint (calendars 0002): a second, narrower guarantee on
confirmed bookings only cost a GiST index write per booking and could disagree with the first
(a request accepted is a confirmed booking whose nights its hold already guards)."""

from django.db import migrations

from core.migration_operations import PostgreSQLRunSQL


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0009_lifecycle"),
        ("calendars", "0002_no_night_held_twice"),
    ]

    operations = [
        PostgreSQLRunSQL(
            "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS "
            "booking_no_overlapping_confirmed_stays",
            reverse_sql=(
                "ALTER TABLE bookings_booking ADD CONSTRAINT "
                "booking_no_overlapping_confirmed_stays EXCLUDE USING gist "
                "(property_id WITH =, daterange(check_in, check_out, '[)') WITH &&) "
                "WHERE (status = 'confirmed')"
            ),
        )
    ]
