"""Create the "shared" cache's table whatever the configuration at migrate time.

0001 ran createcachetable for the caches configured then, so a database migrated with REDIS_URL
set got no table, and served later without Redis it answered 500. The table is now part of the
schema for every configuration: idempotent, it exists already wherever 0001 made it."""

from django.core.management import call_command
from django.db import migrations

# config/settings/base.py names the same table (CACHES["shared"]["LOCATION"] without Redis).
TABLE = "core_shared_cache"


def create_shared_cache_table(apps, schema_editor):
    call_command("createcachetable", TABLE, database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_shared_cache_table")]

    operations = [migrations.RunPython(create_shared_cache_table, migrations.RunPython.noop)]
