"""PostgreSQL only: each listing's row carries `held_nights`, a datemultirange of the nights
its holds (any kind, void requests included) may hold, for the dated search: a listing whose
mask shares no night with a stay needs no look-up of its holds (docs/benchmarks.md, section 16).

Triggers on the holds' table keep it, whatever writes a hold (the services, the admin, a
script, a bulk insert): core.db.night_masks.mask_migration_sql. The mask is a superset, never
less: nights before a horizon count as held, so only holds that end after it are listed, and a
search about older nights looks the holds up. The search's answer never depends on the mask,
only its cost: every night the mask holds is checked against the holds themselves.

Not a model field: SQLite has no multirange type, and its search looks every listing's holds
up. A listing without holds has the column's default, the empty mask."""

from django.db import migrations

from core.db.night_masks import mask_migration_sql
from core.migration_operations import PostgreSQLRunSQL

MASK, UNMASK = mask_migration_sql(
    app="calendars", column="held_nights", table="calendars_hold", nights='daterange(start, "end")'
)

# Every booking now rewrites its listing's row. Room on each page lets PostgreSQL keep the new
# version beside the old (a HOT update: no column of an index changes), instead of adding it to
# each of the listing's indexes, two of them trigram GIN indexes (pages written from now on).
# And a rewritten row's page is no longer "all visible" until a vacuum: the index-only scans of
# the list, the counts and the map (docs/benchmarks.md, section 16) read the table again for
# each of its rows. Vacuumed after 1% of the listings changed, not the default 20%.
FORWARD = (
    "ALTER TABLE properties_property "
    "SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);" + MASK
)
REVERSE = (
    UNMASK + "ALTER TABLE properties_property RESET (fillfactor, autovacuum_vacuum_scale_factor);"
)


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0003_ical_feeds"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [PostgreSQLRunSQL(FORWARD, reverse_sql=REVERSE)]
