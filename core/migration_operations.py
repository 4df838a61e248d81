"""Schema that only PostgreSQL can hold (GiST/GIN indexes, exclusion constraints).

Each operation acts on PostgreSQL and is a no-op elsewhere. Use the schema ones inside
`SeparateDatabaseAndState(database_operations=[...], state_operations=[])`: kept out of the
models' state, they never reach SQLite through `migrate`, `makemigrations` or `full_clean()`."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState


class PostgreSQLOnly(Operation):
    """Mixin for a migration operation: its database work happens on PostgreSQL only. List it
    first among the bases, so that super() reaches the concrete operation."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class PostgreSQLAddIndex(PostgreSQLOnly, migrations.AddIndex):
    pass


class PostgreSQLAddConstraint(PostgreSQLOnly, migrations.AddConstraint):
    pass


class PostgreSQLRunSQL(PostgreSQLOnly, migrations.RunSQL):
    """Raw SQL for PostgreSQL-only objects that Django has no operation for (CREATE STATISTICS)."""
