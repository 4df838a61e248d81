"""PostgreSQL only: the database itself refuses two holds of one listing that share a night
(stays, pending requests, host blocks and imported events alike), whatever code path or app
instance writes them.

Kept out of the model's state (see core.migration_operations) because SQLite cannot hold it."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import migrations
from django.db.models import Func

from core.migration_operations import PostgreSQLAddConstraint, PostgreSQLRunSQL


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]

    operations = [
        # Django's BtreeGistExtension queries pg_extension when unapplied, even on SQLite.
        PostgreSQLRunSQL(
            "CREATE EXTENSION IF NOT EXISTS btree_gist", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                PostgreSQLAddConstraint(
                    "hold",
                    ExclusionConstraint(
                        name="hold_no_night_held_twice",
                        expressions=[
                            ("property", RangeOperators.EQUAL),
                            (DateRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                        ],
                    ),
                )
            ],
            state_operations=[],
        ),
    ]
