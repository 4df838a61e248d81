"""SQLite as django-prometheus instruments it, whose table rebuilds keep the triggers.

Django's SQLite schema editor changes most columns by rebuilding the table: it creates a new
one, copies the rows, drops the old one and renames the new one. SQLite drops a table's own
triggers with it, and refuses the rename while another table's trigger names the table being
rebuilt. The plans' triggers (rates migration 0002) would do both: a later migration of either
table would fail, or lose them silently. So a rebuild sets aside every trigger that names the
table and creates them again afterwards, as they were."""

from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as SQLiteSchemaEditor
from django_prometheus.db.backends.sqlite3 import base


class DatabaseSchemaEditor(SQLiteSchemaEditor):
    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE %s",
                [f"%{table}%"],
            )
            triggers = cursor.fetchall()
        for name, _ in triggers:
            self.execute(f"DROP TRIGGER {self.quote_name(name)}", None)
        super()._remake_table(  # type: ignore[misc]
            model, create_field=create_field, delete_field=delete_field, alter_fields=alter_fields
        )
        for _, sql in triggers:
            self.execute(sql, None)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
