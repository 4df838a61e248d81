"""PostgreSQL only: statistics on UPPER(location), UPPER(title) and UPPER(description), the
expressions that `icontains` filters compare.

The trigram indexes of 0002 are partial (listed rows only), and the planner ignores a partial
index's expression statistics, so it guessed the selectivity of `UPPER(location) LIKE
'%NAIROBI%'`: 10 rows where there are 8,000 of 100,000. With that guess the availability search
read every Nairobi property, probed its bookings and sorted them (~21 ms) instead of walking the
newest-first index until 20 matched (~0.1 ms). Extended statistics on an expression (PostgreSQL
14+) give it the expression's real distribution. See docs/benchmarks.md."""

from django.db import migrations

from core.migration_operations import PostgreSQLRunSQL

FIELDS = {"location": "location::text", "title": "title::text", "description": "description"}


class Migration(migrations.Migration):
    dependencies = [("properties", "0002_trigram_search_indexes")]

    operations = [
        *(
            PostgreSQLRunSQL(
                sql=f"CREATE STATISTICS property_{field}_upper_stats "
                f"ON (UPPER({column})) FROM properties_property",
                reverse_sql=f"DROP STATISTICS IF EXISTS property_{field}_upper_stats",
            )
            for field, column in FIELDS.items()
        ),
        # Fill them now rather than at the next autovacuum.
        PostgreSQLRunSQL(sql="ANALYZE properties_property", reverse_sql=migrations.RunSQL.noop),
    ]
