"""PostgreSQL only: each listing's row carries `rule_dates`, a datemultirange of the dates on
which a day row (rates_rateday) may refuse a stay (closed, closed to arrival or departure, its
own minimum stay), for the dated search: a listing whose mask shares no date with a stay needs
no look-up of its day rows (docs/benchmarks.md, section 16). Rows that only set a price are
left out: a price refuses nothing.

Kept by triggers on the day rows' table, as calendars' `held_nights` is on the holds' (the
same code and the same superset rule: core.db.night_masks.mask_migration_sql). Not a model
field: SQLite has no multirange type, and its search looks every listing's day rows up.

The plans' copy trigger (0002) gets the same pinned search_path as the masks' functions."""

from django.db import migrations

from core.db.night_masks import mask_migration_sql, pin_search_path_sql
from core.migration_operations import PostgreSQLRunSQL

MASK, UNMASK = mask_migration_sql(
    app="rates",
    column="rule_dates",
    table="rates_rateday",
    nights="daterange(date, date, '[]')",
    condition="(closed OR closed_to_arrival OR closed_to_departure OR min_nights IS NOT NULL)",
)
FORWARD = MASK + pin_search_path_sql("rates_plan_rules_copy()")
REVERSE = "ALTER FUNCTION rates_plan_rules_copy() RESET search_path;" + UNMASK


class Migration(migrations.Migration):
    dependencies = [
        ("rates", "0002_plan_rules_copy_triggers"),
        ("properties", "0010_plan_rules_copy"),
    ]

    operations = [PostgreSQLRunSQL(FORWARD, reverse_sql=REVERSE)]
