"""A listing's night masks (PostgreSQL only): datemultirange columns on the listing's row that
triggers keep as a superset of the dates something may refuse (calendars' `held_nights`: the
nights its holds hold; rates' `rule_dates`: the dates its day rows rule). A dated search asks
the mask first and looks the rows up only where the mask says "maybe": a cheap test on the row
instead of an index probe per listing (docs/benchmarks.md, section 16).

The masks are columns the migrations add, not model fields (SQLite has no multirange type and
its search always looks the rows up)."""

from django.db.models import BooleanField, Func


class MaskClear(Func):
    """For a properties queryset on PostgreSQL: the row's mask `column` shares no date with
    [start, end) (with bounds "[]", [start, end]). `start` and `end` are dates or date
    expressions of the row."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, start, end, *, bounds: str = "[)") -> None:
        if bounds not in ("[)", "[]"):
            raise ValueError(f"bounds: {bounds!r}")
        super().__init__(start, end)  # Func binds a date as a Value
        self.column, self.bounds = column, bounds

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        if connection.vendor != "postgresql":
            raise NotImplementedError("night masks exist on PostgreSQL only")
        (start, start_params), (end, end_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        column = connection.ops.quote_name(self.column)
        return (
            f"NOT ({table}.{column} && daterange({start}, {end}, '{self.bounds}'))",
            [*start_params, *end_params],
        )


# Nights before this count as held (or ruled) in every mask: a mask lists only what ends after
# it, so it stays small for a listing with years of history.
HORIZON = "current_date - 40"


def pin_search_path_sql(*functions: str) -> str:
    """SQL that makes each function find the tables of the migration's schema (by name:
    "$user" would name whoever calls), whatever search_path a later session has (a data-only
    pg_restore runs with an empty one)."""
    pins = "\n".join(
        f"    EXECUTE format('ALTER FUNCTION {function} SET search_path = %I', current_schema());"
        for function in functions
    )
    return f"DO $pin$\nBEGIN\n{pins}\nEND\n$pin$;"


def mask_migration_sql(
    *, app: str, column: str, table: str, nights: str, condition: str = "TRUE"
) -> tuple[str, str]:
    """The SQL (forward, reverse) that adds the mask `column` to the listings' table and keeps
    it with triggers on `table`: the union of `nights` (a daterange of a row of `table`) over
    the listing's rows that meet `condition`, after HORIZON, and (,HORIZON) itself.

    - Per statement (a bulk write touches each listing once), with transition tables.
    - New rows only add to a mask (and today's horizon, as a recomputed mask would), without
      reading the listing's other rows: every booking comes this way. The UPDATE reads the
      newest version of a row it waited for.
    - Any other change locks the listings' rows first (in id order, so that two statements
      never wait for each other in a circle), then recomputes their masks in a statement of
      its own: under READ COMMITTED it sees every row committed while this one waited. An
      UPDATE that computed them itself would keep its snapshot from before the wait and drop
      what the transaction it waited for wrote. (Every service locks the listing before
      writing; a script or a bulk insert need not.)
    - A row may be written before its listing's row, in one transaction (Django's foreign keys
      are checked at commit): a new listing looks its rows up.
    - A write that changes no mask (a request confirmed, a note) leaves the row unwritten."""
    compute, changed, listing_insert = (
        f"{app}_{column}",
        f"{table}_{column}",
        f"{app}_listing_{column}",
    )
    horizon = f"datemultirange(daterange(NULL, {HORIZON}))"
    forward = f"""
ALTER TABLE properties_property ADD COLUMN {column} datemultirange NOT NULL DEFAULT '{{}}';

CREATE FUNCTION {compute}(listing bigint) RETURNS datemultirange LANGUAGE sql STABLE AS $$
    SELECT {horizon} + coalesce(range_agg({nights}), '{{}}')
    FROM {table}
    WHERE property_id = listing AND upper({nights}) > {HORIZON} AND {condition}
$$;

CREATE FUNCTION {changed}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    listings bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM 1 FROM properties_property WHERE id IN (SELECT property_id FROM new_rows)
            ORDER BY id FOR NO KEY UPDATE;
        UPDATE properties_property AS listing SET {column} = listing.{column} + added.mask
        FROM (
            SELECT property_id,
                coalesce(range_agg({nights}) FILTER (WHERE {condition}), '{{}}') + {horizon}
                    AS mask
            FROM new_rows GROUP BY property_id
        ) AS added
        WHERE listing.id = added.property_id AND NOT listing.{column} @> added.mask;
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT property_id) INTO listings FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT property_id) INTO listings
        FROM (SELECT property_id FROM new_rows UNION SELECT property_id FROM old_rows) changed;
    END IF;
    PERFORM 1 FROM properties_property WHERE id = ANY (listings) ORDER BY id FOR NO KEY UPDATE;
    UPDATE properties_property AS listing SET {column} = masks.mask
    FROM (SELECT id, {compute}(id) AS mask FROM unnest(listings) AS id) AS masks
    WHERE listing.id = masks.id AND listing.{column} IS DISTINCT FROM masks.mask;
    RETURN NULL;
END
$$;

-- One trigger per event: a trigger with transition tables takes one event only.
CREATE TRIGGER {changed}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {changed}();
CREATE TRIGGER {changed}_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {changed}();
CREATE TRIGGER {changed}_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {changed}();

CREATE FUNCTION {listing_insert}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE properties_property AS listing SET {column} = {compute}(listing.id)
    WHERE listing.id IN (SELECT id FROM new_listings)
        AND EXISTS (SELECT 1 FROM {table} WHERE property_id = listing.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER {listing_insert} AFTER INSERT ON properties_property
    REFERENCING NEW TABLE AS new_listings
    FOR EACH STATEMENT EXECUTE FUNCTION {listing_insert}();

{pin_search_path_sql(f"{compute}(bigint)", f"{changed}()", f"{listing_insert}()")}

UPDATE properties_property SET {column} = {compute}(id)
WHERE id IN (SELECT property_id FROM {table});
"""
    reverse = f"""
DROP TRIGGER {listing_insert} ON properties_property;
DROP FUNCTION {listing_insert}();
DROP TRIGGER {changed}_insert ON {table};
DROP TRIGGER {changed}_update ON {table};
DROP TRIGGER {changed}_delete ON {table};
DROP FUNCTION {changed}();
DROP FUNCTION {compute}(bigint);
ALTER TABLE properties_property DROP COLUMN {column};
"""
    return forward, reverse
