"""PostgreSQL only: each listing's row carries `rule_dates`, a datemultirange of the dates on
which a day row (rates_rateday) may refuse a stay (closed, closed to arrival or departure, its
own minimum stay), for the dated search: a listing whose mask shares no date with a stay needs
no look-up of its day rows (docs/benchmarks.md, section 16). Rows that only set a price are
left out: a price refuses nothing.

Kept by triggers on the day rows' table, as calendars' `held_nights` is on the holds' (the
same superset rule: dates before a horizon count as ruled, so only later rows are listed; the
search checks every date the mask holds against the rows themselves). Not a model field:
SQLite has no multirange type, and its search looks every listing's day rows up."""

from django.db import migrations

from core.migration_operations import PostgreSQLRunSQL

HORIZON = "current_date - 40"
REFUSING = "(closed OR closed_to_arrival OR closed_to_departure OR min_nights IS NOT NULL)"

FORWARD = f"""
ALTER TABLE properties_property
    ADD COLUMN rule_dates datemultirange NOT NULL DEFAULT '{{}}';

CREATE FUNCTION rates_rule_dates(listing bigint) RETURNS datemultirange
LANGUAGE sql STABLE AS $$
    SELECT datemultirange(daterange(NULL, {HORIZON}))
        + coalesce(range_agg(daterange(date, date, '[]')), '{{}}')
    FROM rates_rateday
    WHERE property_id = listing AND date >= {HORIZON} AND {REFUSING}
$$;

CREATE FUNCTION rates_rateday_rule_dates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    listings bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT property_id) INTO listings FROM new_days;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT property_id) INTO listings FROM old_days;
    ELSE
        SELECT array_agg(DISTINCT property_id) INTO listings
        FROM (SELECT property_id FROM new_days UNION SELECT property_id FROM old_days) changed;
    END IF;
    -- Lock the listings' rows first, then compute their masks in a statement of its own:
    -- under READ COMMITTED it sees every row committed while this one waited for a lock. An
    -- UPDATE that computed them itself would keep its snapshot from before the wait, and
    -- drop what the transaction it waited for wrote. (Every service locks the listing
    -- before writing; a script or a bulk insert need not.) In id order: two statements never
    -- wait for each other in a circle.
    PERFORM 1 FROM properties_property WHERE id = ANY (listings) ORDER BY id FOR NO KEY UPDATE;
    UPDATE properties_property AS listing SET rule_dates = masks.mask
    FROM (SELECT id, rates_rule_dates(id) AS mask FROM unnest(listings) AS id) AS masks
    WHERE listing.id = masks.id AND listing.rule_dates IS DISTINCT FROM masks.mask;
    RETURN NULL;
END
$$;

-- One trigger per event: a trigger with transition tables takes one event only.
CREATE TRIGGER rates_rateday_rule_dates_insert AFTER INSERT ON rates_rateday
    REFERENCING NEW TABLE AS new_days
    FOR EACH STATEMENT EXECUTE FUNCTION rates_rateday_rule_dates();
CREATE TRIGGER rates_rateday_rule_dates_update AFTER UPDATE ON rates_rateday
    REFERENCING OLD TABLE AS old_days NEW TABLE AS new_days
    FOR EACH STATEMENT EXECUTE FUNCTION rates_rateday_rule_dates();
CREATE TRIGGER rates_rateday_rule_dates_delete AFTER DELETE ON rates_rateday
    REFERENCING OLD TABLE AS old_days
    FOR EACH STATEMENT EXECUTE FUNCTION rates_rateday_rule_dates();

-- A day row may be written before its listing's row, in one transaction (Django's foreign
-- keys are checked at commit): a new listing looks its day rows up.
CREATE FUNCTION rates_listing_rule_dates() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE properties_property AS listing SET rule_dates = rates_rule_dates(listing.id)
    WHERE listing.id IN (SELECT id FROM new_listings)
        AND EXISTS (SELECT 1 FROM rates_rateday WHERE property_id = listing.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER rates_listing_rule_dates AFTER INSERT ON properties_property
    REFERENCING NEW TABLE AS new_listings
    FOR EACH STATEMENT EXECUTE FUNCTION rates_listing_rule_dates();

-- The tables of the migration's schema (by name: "$user" would name whoever calls), whatever
-- search_path a later session has (a data-only pg_restore runs with an empty one); the plans'
-- copy trigger (0002) too.
DO $pin$
BEGIN
    EXECUTE format('ALTER FUNCTION rates_rule_dates(bigint) SET search_path = %I', current_schema());
    EXECUTE format('ALTER FUNCTION rates_rateday_rule_dates() SET search_path = %I', current_schema());
    EXECUTE format('ALTER FUNCTION rates_listing_rule_dates() SET search_path = %I', current_schema());
    EXECUTE format('ALTER FUNCTION rates_plan_rules_copy() SET search_path = %I', current_schema());
END
$pin$;

UPDATE properties_property SET rule_dates = rates_rule_dates(id)
WHERE id IN (SELECT property_id FROM rates_rateday);
"""

REVERSE = """
ALTER FUNCTION rates_plan_rules_copy() RESET search_path;
DROP TRIGGER rates_listing_rule_dates ON properties_property;
DROP FUNCTION rates_listing_rule_dates();
DROP TRIGGER rates_rateday_rule_dates_insert ON rates_rateday;
DROP TRIGGER rates_rateday_rule_dates_update ON rates_rateday;
DROP TRIGGER rates_rateday_rule_dates_delete ON rates_rateday;
DROP FUNCTION rates_rateday_rule_dates();
DROP FUNCTION rates_rule_dates(bigint);
ALTER TABLE properties_property DROP COLUMN rule_dates;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("rates", "0002_plan_rules_copy_triggers"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [PostgreSQLRunSQL(FORWARD, reverse_sql=REVERSE)]
