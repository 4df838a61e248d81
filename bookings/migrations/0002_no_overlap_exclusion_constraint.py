"""PostgreSQL only: the database itself refuses two confirmed bookings of one property whose
[check_in, check_out) ranges overlap, whatever code path or app instance writes them.

Kept out of the model's state (see core.migration_operations) because SQLite cannot hold it."""

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.models import Func, Q

from core.migration_operations import PostgreSQLAddConstraint


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),  # itself a no-op on other databases
        migrations.SeparateDatabaseAndState(
            database_operations=[
                PostgreSQLAddConstraint(
                    "booking",
                    ExclusionConstraint(
                        name="booking_no_overlapping_confirmed_stays",
                        expressions=[
                            ("property", RangeOperators.EQUAL),
                            (
                                DateRange("check_in", "check_out", RangeBoundary()),
                                RangeOperators.OVERLAPS,
                            ),
                        ],
                        condition=Q(status="confirmed"),
                    ),
                )
            ],
            state_operations=[],
        ),
    ]
