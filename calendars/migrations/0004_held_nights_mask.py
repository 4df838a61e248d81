"""PostgreSQL only: each listing's row carries `held_nights`, a datemultirange of the nights
its holds (any kind, void requests included) may hold, for the dated search: a listing whose
mask shares no night with a stay needs no look-up of its holds (docs/benchmarks.md, section 16).

Triggers on the holds' table keep it, whatever writes a hold (the services, the admin, a
script, a bulk insert). The mask is a superset, never less: nights before a horizon (40 days
before the day it was computed) count as held, so only holds that end after it are listed, and
a search about older nights looks the holds up. The search's answer never depends on the mask,
only its cost: every night the mask holds is checked against the holds themselves.

Not a model field: SQLite has no multirange type, and its search looks every listing's holds
up. A listing without holds has the column's default, the empty mask."""

from django.db import migrations

from core.migration_operations import PostgreSQLRunSQL

HORIZON = "current_date - 40"

FORWARD = f"""
ALTER TABLE properties_property
    ADD COLUMN held_nights datemultirange NOT NULL DEFAULT '{{}}';
-- Every booking now rewrites its listing's row. Room on each page lets PostgreSQL keep the new
-- version beside the old (a HOT update: no column of an index changes), instead of adding it
-- to each of the listing's indexes, two of them trigram GIN indexes. Pages written from now on.
ALTER TABLE properties_property SET (fillfactor = 90);

CREATE FUNCTION calendars_held_nights(listing bigint) RETURNS datemultirange
LANGUAGE sql STABLE AS $$
    SELECT datemultirange(daterange(NULL, {HORIZON}))
        + coalesce(range_agg(daterange(start, "end")), '{{}}')
    FROM calendars_hold
    WHERE property_id = listing AND "end" > {HORIZON}
$$;

CREATE FUNCTION calendars_hold_held_nights() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE properties_property SET held_nights = calendars_held_nights(id)
        WHERE id IN (SELECT property_id FROM new_holds)
            AND held_nights IS DISTINCT FROM calendars_held_nights(id);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE properties_property SET held_nights = calendars_held_nights(id)
        WHERE id IN (SELECT property_id FROM old_holds)
            AND held_nights IS DISTINCT FROM calendars_held_nights(id);
    ELSE
        UPDATE properties_property SET held_nights = calendars_held_nights(id)
        WHERE id IN (SELECT property_id FROM new_holds UNION SELECT property_id FROM old_holds)
            AND held_nights IS DISTINCT FROM calendars_held_nights(id);
    END IF;
    RETURN NULL;
END
$$;

-- One trigger per event: a trigger with transition tables takes one event only.
CREATE TRIGGER calendars_hold_held_nights_insert AFTER INSERT ON calendars_hold
    REFERENCING NEW TABLE AS new_holds
    FOR EACH STATEMENT EXECUTE FUNCTION calendars_hold_held_nights();
CREATE TRIGGER calendars_hold_held_nights_update AFTER UPDATE ON calendars_hold
    REFERENCING OLD TABLE AS old_holds NEW TABLE AS new_holds
    FOR EACH STATEMENT EXECUTE FUNCTION calendars_hold_held_nights();
CREATE TRIGGER calendars_hold_held_nights_delete AFTER DELETE ON calendars_hold
    REFERENCING OLD TABLE AS old_holds
    FOR EACH STATEMENT EXECUTE FUNCTION calendars_hold_held_nights();

UPDATE properties_property SET held_nights = calendars_held_nights(id)
WHERE id IN (SELECT property_id FROM calendars_hold);
"""

REVERSE = """
DROP TRIGGER calendars_hold_held_nights_insert ON calendars_hold;
DROP TRIGGER calendars_hold_held_nights_update ON calendars_hold;
DROP TRIGGER calendars_hold_held_nights_delete ON calendars_hold;
DROP FUNCTION calendars_hold_held_nights();
DROP FUNCTION calendars_held_nights(bigint);
ALTER TABLE properties_property RESET (fillfactor);
ALTER TABLE properties_property DROP COLUMN held_nights;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0003_ical_feeds"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [PostgreSQLRunSQL(FORWARD, reverse_sql=REVERSE)]
