"""PostgreSQL only: a trigram GIN index on search_text, which `search` now reads (every word of
the query, folded, LIKE '%word%'), with statistics on it; the trigram indexes and statistics on
UPPER(title) and UPPER(description) of 0002/0003 served the old phrase search and go. The one on
UPPER(location) stays: the `location` filter still reads it."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations
from django.db.models import F, Q

from core.migration_operations import PostgreSQLAddIndex, PostgreSQLRunSQL


class Migration(migrations.Migration):
    dependencies = [("properties", "0006_amenities_and_existing_listings")]

    operations = [
        *(
            PostgreSQLRunSQL(
                sql=f"DROP INDEX IF EXISTS property_{field}_trgm_idx; "
                f"DROP STATISTICS IF EXISTS property_{field}_upper_stats",
                reverse_sql=migrations.RunSQL.noop,
            )
            for field in ("title", "description")
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                PostgreSQLAddIndex(
                    "property",
                    GinIndex(
                        OpClass(F("search_text"), name="gin_trgm_ops"),
                        name="property_search_text_trgm_idx",
                        condition=Q(deleted_at__isnull=True),
                    ),
                )
            ],
            state_operations=[],
        ),
        PostgreSQLRunSQL(sql="ANALYZE properties_property", reverse_sql=migrations.RunSQL.noop),
    ]
