"""A values() subquery's rows as one JSON array, so that a read of one row and its related
rows is one query (and one round trip) on PostgreSQL and SQLite alike."""

import orjson
from django.db.models import JSONField, QuerySet, Subquery, TextField


class JSONRows(Subquery):
    """The rows of `queryset` (a values() queryset, usually filtered by an OuterRef) as JSON
    text: an array of objects keyed by the values' names, `[]` when there are none. In no
    particular order (SQLite before 3.44 has no ORDER BY inside an aggregate): sort the parsed
    rows (json_rows_loaded). JSONField columns are embedded as JSON, not as strings."""

    output_field = TextField()

    def __init__(self, queryset: QuerySet, **extra):
        self.names = tuple(queryset.query.values_select)
        if not self.names or queryset.query.annotation_select or queryset.query.extra_select:
            raise ValueError("JSONRows takes a values() queryset of plain fields.")
        model = queryset.model
        self.json_names = {
            name for name in self.names if isinstance(model._meta.get_field(name), JSONField)
        }
        super().__init__(queryset, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        subquery, params = super().as_sql(compiler, connection, **extra_context)
        return f"COALESCE((SELECT json_agg(row_to_json(s))::text FROM {subquery} s), '[]')", params

    def as_sqlite(self, compiler, connection, **extra_context):
        subquery, params = super().as_sql(compiler, connection, **extra_context)
        quote = connection.ops.quote_name
        pairs = ", ".join(
            f"'{name}', "
            + (f"json(s.{quote(name)})" if name in self.json_names else f"s.{quote(name)}")
            for name in self.names
        )
        return (
            f"COALESCE((SELECT json_group_array(json_object({pairs})) FROM {subquery} s), '[]')",
            params,
        )


def json_rows_loaded(text: str) -> list[dict]:
    """JSONRows' text as a list of dicts."""
    return orjson.loads(text)
