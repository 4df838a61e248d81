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
-- to each of the listing's indexes, two of them trigram GIN indexes (pages written from now
-- on). And a rewritten row's page is no longer "all visible" until a vacuum: the index-only
-- scans of the list, the counts and the map (docs/benchmarks.md, section 16) read the table
-- again for each of its rows. Vacuumed after 1% of the listings changed, not the default 20%.
ALTER TABLE properties_property SET (fillfactor = 90, autovacuum_vacuum_scale_factor = 0.01);

CREATE FUNCTION calendars_held_nights(listing bigint) RETURNS datemultirange
LANGUAGE sql STABLE AS $$
    SELECT datemultirange(daterange(NULL, {HORIZON}))
        + coalesce(range_agg(daterange(start, "end")), '{{}}')
    FROM calendars_hold
    WHERE property_id = listing AND "end" > {HORIZON}
$$;

CREATE FUNCTION calendars_hold_held_nights() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    listings bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- New holds only add nights: the listings' masks grow by them (and by today's
        -- horizon, as a recomputed mask would), without reading their other holds (every
        -- booking comes this way).
        PERFORM 1 FROM properties_property WHERE id IN (SELECT property_id FROM new_holds)
            ORDER BY id FOR NO KEY UPDATE;
        UPDATE properties_property AS listing SET held_nights = listing.held_nights + added.nights
        FROM (
            SELECT property_id,
                range_agg(daterange(start, "end")) + datemultirange(daterange(NULL, {HORIZON}))
                    AS nights
            FROM new_holds GROUP BY property_id
        ) AS added
        WHERE listing.id = added.property_id AND NOT listing.held_nights @> added.nights;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT property_id) INTO listings FROM old_holds;
    ELSE
        SELECT array_agg(DISTINCT property_id) INTO listings
        FROM (SELECT property_id FROM new_holds UNION SELECT property_id FROM old_holds) changed;
    END IF;
    -- Lock the listings' rows first, then compute their masks in a statement of its own:
    -- under READ COMMITTED it sees every row committed while this one waited for a lock. An
    -- UPDATE that computed them itself would keep its snapshot from before the wait, and
    -- drop what the transaction it waited for wrote. (Every service locks the listing
    -- before writing; a script or a bulk insert need not.) In id order: two statements never
    -- wait for each other in a circle.
    PERFORM 1 FROM properties_property WHERE id = ANY (listings) ORDER BY id FOR NO KEY UPDATE;
    UPDATE properties_property AS listing SET held_nights = masks.mask
    FROM (SELECT id, calendars_held_nights(id) AS mask FROM unnest(listings) AS id) AS masks
    WHERE listing.id = masks.id AND listing.held_nights IS DISTINCT FROM masks.mask;
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

-- A hold may be written before its listing's row, in one transaction (Django's foreign keys
-- are checked at commit): a new listing looks its holds up.
CREATE FUNCTION calendars_listing_held_nights() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE properties_property AS listing SET held_nights = calendars_held_nights(listing.id)
    WHERE listing.id IN (SELECT id FROM new_listings)
        AND EXISTS (SELECT 1 FROM calendars_hold WHERE property_id = listing.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER calendars_listing_held_nights AFTER INSERT ON properties_property
    REFERENCING NEW TABLE AS new_listings
    FOR EACH STATEMENT EXECUTE FUNCTION calendars_listing_held_nights();

-- The tables of the migration's schema (by name: "$user" would name whoever calls), whatever
-- search_path a later session has (a data-only pg_restore runs with an empty one).
DO $pin$
BEGIN
    EXECUTE format('ALTER FUNCTION calendars_held_nights(bigint) SET search_path = %I', current_schema());
    EXECUTE format('ALTER FUNCTION calendars_hold_held_nights() SET search_path = %I', current_schema());
    EXECUTE format('ALTER FUNCTION calendars_listing_held_nights() SET search_path = %I', current_schema());
END
$pin$;

UPDATE properties_property SET held_nights = calendars_held_nights(id)
WHERE id IN (SELECT property_id FROM calendars_hold);
"""

REVERSE = """
DROP TRIGGER calendars_listing_held_nights ON properties_property;
DROP FUNCTION calendars_listing_held_nights();
DROP TRIGGER calendars_hold_held_nights_insert ON calendars_hold;
DROP TRIGGER calendars_hold_held_nights_update ON calendars_hold;
DROP TRIGGER calendars_hold_held_nights_delete ON calendars_hold;
DROP FUNCTION calendars_hold_held_nights();
DROP FUNCTION calendars_held_nights(bigint);
ALTER TABLE properties_property RESET (fillfactor, autovacuum_vacuum_scale_factor);
ALTER TABLE properties_property DROP COLUMN held_nights;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("calendars", "0003_ical_feeds"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [PostgreSQLRunSQL(FORWARD, reverse_sql=REVERSE)]
