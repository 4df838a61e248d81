"""A values() subquery's rows as one JSON array, so that a read of one row and its related
rows is one query (and one round trip) on PostgreSQL and SQLite alike."""

import json
from operator import itemgetter

from django.db import connection
from django.db.models import JSONField, QuerySet, Subquery, TextField


class JSONRows(Subquery):
    """The rows of `queryset` (a values() queryset, usually filtered by an OuterRef) as JSON
    text: an array of objects keyed by the values' names, `[]` when there are none, ordered by
    the `order_by` names on PostgreSQL (in its collation, as ORDER BY orders them). SQLite
    before 3.44 takes no ORDER BY inside an aggregate: json_rows_loaded sorts them there.
    JSONField columns are embedded as JSON, not as strings."""

    output_field = TextField()

    def __init__(self, queryset: QuerySet, *, order_by: tuple[str, ...] = (), **extra):
        self.names = tuple(queryset.query.values_select)
        if not self.names or queryset.query.annotation_select or queryset.query.extra_select:
            raise ValueError("JSONRows takes a values() queryset of plain fields.")
        if not set(order_by) <= set(self.names):
            raise ValueError("JSONRows orders by names of its values().")
        self.order_by_names = order_by
        queryset = queryset.order_by()  # the aggregate orders, or json_rows_loaded does
        model = queryset.model
        self.json_names = {
            name for name in self.names if isinstance(model._meta.get_field(name), JSONField)
        }
        super().__init__(queryset, **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        subquery, params = super().as_sql(compiler, connection, **extra_context)
        order = ", ".join(f"s.{connection.ops.quote_name(name)}" for name in self.order_by_names)
        aggregate = f"json_agg(row_to_json(s){f' ORDER BY {order}' if order else ''})"
        return f"COALESCE((SELECT {aggregate}::text FROM {subquery} s), '[]')", params

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


def json_rows_loaded(text: str, *, order_by: tuple[str, ...] = ()) -> list[dict]:
    """JSONRows' text as a list of dicts (parsed as JSONField parses its values), in the
    `order_by` order given to JSONRows: on SQLite, sorted here by code point, which is its
    BINARY collation's order."""
    rows = json.loads(text)
    if order_by and connection.vendor != "postgresql":
        rows.sort(key=itemgetter(*order_by))
    return rows
