"""PostgreSQL only: trigram GIN indexes so `icontains` (location, search) uses an index.

Django compiles `icontains` on PostgreSQL to `UPPER(col::text) LIKE UPPER(%s)`, so the indexes
are on UPPER(col). SQLite has no equivalent; the operations are no-ops there."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.models import Q
from django.db.models.functions import Upper

from core.migration_operations import PostgreSQLAddIndex


def _trigram_index(field: str) -> GinIndex:
    return GinIndex(
        OpClass(Upper(field), name="gin_trgm_ops"),
        name=f"property_{field}_trgm_idx",
        condition=Q(deleted_at__isnull=True),
    )


class Migration(migrations.Migration):
    dependencies = [("properties", "0001_initial")]

    operations = [
        TrigramExtension(),  # itself a no-op on other databases
        migrations.SeparateDatabaseAndState(
            database_operations=[
                PostgreSQLAddIndex("property", _trigram_index(field))
                for field in ("location", "title", "description")
            ],
            state_operations=[],
        ),
    ]
