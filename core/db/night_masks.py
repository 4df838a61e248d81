"""A listing's night masks (PostgreSQL only): datemultirange columns on the listing's row that
triggers keep as a superset of the dates something may refuse (calendars' `held_nights`: the
nights its holds hold; rates' `rule_dates`: the dates its day rows rule). A dated search asks
the mask first and looks the rows up only where the mask says "maybe": a cheap test on the row
instead of an index probe per listing (docs/benchmarks.md, section 16).

The masks are columns the migrations add, not model fields (SQLite has no multirange type and
its search always looks the rows up)."""

from datetime import date

from django.db.models import BooleanField, Func, Value


class MaskClear(Func):
    """For a properties queryset on PostgreSQL: the row's mask `column` shares no date with
    [start, end) (with bounds "[]", [start, end]). `start` and `end` are dates or date
    expressions of the row."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, column: str, start, end, *, bounds: str = "[)") -> None:
        if bounds not in ("[)", "[]"):
            raise ValueError(f"bounds: {bounds!r}")
        start = Value(start) if isinstance(start, date) else start
        end = Value(end) if isinstance(end, date) else end
        super().__init__(start, end)
        self.column, self.bounds = column, bounds

    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
        if connection.vendor != "postgresql":
            raise NotImplementedError("night masks exist on PostgreSQL only")
        (start, start_params), (end, end_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        column = connection.ops.quote_name(self.column)
        return (
            f"NOT ({table}.{column} && daterange(({start})::date, ({end})::date, '{self.bounds}'))",
            [*start_params, *end_params],
        )
