"""The listing's row carries its rate plan's stay rules (properties.Property.plan_*), for the
dated search: triggers on the plan's table copy them on every insert, update and delete,
whatever writes the plan (the API, the admin, a script, a bulk insert). A listing without a
plan has the defaults, which are also RatePlan's."""

from django.db import migrations

from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS

# (the listing's column, the plan's column, the value without a plan)
COPIES = (
    ("plan_min_nights", "min_nights", 1),
    ("plan_max_nights", "max_nights", MAX_NIGHTS),
    ("plan_booking_window_days", "booking_window_days", MAX_DAYS_AHEAD),
    ("plan_advance_notice_days", "advance_notice_days", 0),
    ("plan_preparation_nights", "preparation_nights", 0),
)


def _set(row: str) -> str:
    return ", ".join(f"{copy} = {row}.{column}" for copy, column, _ in COPIES)


def _changed(distinct: str) -> str:
    # Only a change of these touches the listing's row (a new cleaning fee does not). Tested
    # in the body, not named in an UPDATE OF list, which on PostgreSQL would pin the columns'
    # types and let a dropped column take the whole trigger with it.
    columns = ("property_id", *(column for _, column, _ in COPIES))
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _defaults() -> str:
    return ", ".join(f"{copy} = {default}" for copy, _, default in COPIES)


POSTGRESQL = f"""
CREATE FUNCTION rates_plan_rules_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE properties_property SET {_defaults()} WHERE id = OLD.property_id;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT ({_changed("IS DISTINCT FROM")}) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.property_id <> OLD.property_id THEN
        UPDATE properties_property SET {_defaults()} WHERE id = OLD.property_id;
    END IF;
    UPDATE properties_property SET {_set("NEW")} WHERE id = NEW.property_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER rates_plan_rules_copy AFTER INSERT OR UPDATE OR DELETE ON rates_rateplan
    FOR EACH ROW EXECUTE FUNCTION rates_plan_rules_copy();
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER rates_plan_rules_copy ON rates_rateplan;
DROP FUNCTION rates_plan_rules_copy();
"""

SQLITE = [
    f"""CREATE TRIGGER rates_plan_rules_copy_insert AFTER INSERT ON rates_rateplan BEGIN
        UPDATE properties_property SET {_set("NEW")} WHERE id = NEW.property_id;
    END""",
    f"""CREATE TRIGGER rates_plan_rules_copy_update AFTER UPDATE ON rates_rateplan
        WHEN {_changed("IS NOT")} BEGIN
        UPDATE properties_property SET {_defaults()}
            WHERE id = OLD.property_id AND OLD.property_id <> NEW.property_id;
        UPDATE properties_property SET {_set("NEW")} WHERE id = NEW.property_id;
    END""",
    f"""CREATE TRIGGER rates_plan_rules_copy_delete AFTER DELETE ON rates_rateplan BEGIN
        UPDATE properties_property SET {_defaults()} WHERE id = OLD.property_id;
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER rates_plan_rules_copy_insert",
    "DROP TRIGGER rates_plan_rules_copy_update",
    "DROP TRIGGER rates_plan_rules_copy_delete",
]


def _statements(schema_editor, *, forward: bool) -> list[str]:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        return [POSTGRESQL if forward else POSTGRESQL_REVERSE]
    if vendor == "sqlite":
        return SQLITE if forward else SQLITE_REVERSE
    raise NotImplementedError(f"no rate plan triggers for {vendor}")


def create_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, forward=True):
        schema_editor.execute(statement)
    # The plans that exist already (correlated subqueries: both databases read them).
    copies = ", ".join(
        f"{copy} = (SELECT {column} FROM rates_rateplan WHERE property_id = properties_property.id)"
        for copy, column, _ in COPIES
    )
    schema_editor.execute(
        f"UPDATE properties_property SET {copies} "
        "WHERE id IN (SELECT property_id FROM rates_rateplan)",
        None,
    )


def drop_triggers(apps, schema_editor):
    for statement in _statements(schema_editor, forward=False):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("rates", "0001_initial"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
