"""Hot read queries compiled to SQL once per process instead of once per request.

Building a queryset and compiling it to SQL costs the ORM 0.3-0.6 ms of CPU per query, several
times what PostgreSQL spends answering a hot look-up. `QueryTemplate` compiles
a queryset once per shape and afterwards only fills in each request's values; `CompiledQuery` is
its one-shape form for plain hot look-ups. The SQL, the quoting and the row converters are still
Django's, so the answer is exactly what the queryset itself would return (tests compare them)."""

import datetime as dt
import re
from collections import OrderedDict
from collections.abc import Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from threading import Lock
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


class CompiledQuery:
    """A hot read with one shape: a values() queryset built by `build(**params)`, compiled once
    per database by a QueryTemplate (below). Each of `names` must be bound exactly once
    (checked at the first call, a ValueError otherwise): these are plain look-ups, and a name
    the SQL ignores, repeats or rewrites (a LIKE pattern, which the template refuses) is a
    mistake in `build`, not something to fall back from on every request."""

    def __init__(self, build: Callable[..., QuerySet], *names: str) -> None:
        self._names = sorted(names)
        # One shape, run with new values on every connection: worth preparing on the server.
        self._template = QueryTemplate(
            lambda shape, values: build(**values), shapes=1, prepared=True
        )
        self._checked: set[str] = set()  # database vendors

    def rows(self, **params: Any) -> list[dict]:
        """The rows for these parameter values, as values() would return them."""
        rows = self._template.execute((), params)
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        if vendor not in self._checked:
            bound = self._template.bound_names(())
            if bound is None or sorted(bound) != self._names:
                raise ValueError(f"Each name must be one bound parameter; found {bound}.")
            self._checked.add(vendor)
        assert isinstance(rows, list)
        return rows


def _row_shape(query, compiler) -> tuple[tuple[str, ...], tuple]:
    """A values() query's column names, and the converters Django applies to its columns."""
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    expressions = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = tuple(
        (column, tuple(functions), expression)
        for column, (functions, expression) in compiler.get_converters(expressions).items()
    )
    return names, converters


def _execute(connection, cursor, sql: str, params: list, *, prepared: bool) -> None:
    # Our PostgreSQL backend prepares (core/db/backends/postgresql); SQLite plans its own.
    if prepared and hasattr(connection, "execute_prepared"):
        connection.execute_prepared(cursor, sql, params)
    else:
        cursor.execute(sql, params)


def _fetch_dicts(
    connection, sql: str, params: list, names: tuple, converters: tuple, *, prepared: bool
) -> list:
    with connection.cursor() as cursor:
        _execute(connection, cursor, sql, params, prepared=prepared)
        fetched = cursor.fetchall()
    result = []
    for fetched_row in fetched:
        row = list(fetched_row)
        for column, functions, expression in converters:
            value = row[column]
            for function in functions:
                value = function(value, expression, connection)
            row[column] = value
        result.append(dict(zip(names, row, strict=True)))
    return result


# --- Templates: one compile per query *shape* -------------------------------------------------
# A search's query has a shape (which filters, which sort, which amenities) and values (the
# city, the dates, the price bounds). Django builds and compiles the whole tree again for every
# request: 3-8 ms of CPU for a filtered page, far more than the database spends on it. A
# QueryTemplate compiles each shape once, three times over with three sets of stand-in values,
# and keeps what is the same in all three: the SQL and the constant parameters; each parameter
# that changed must be one of the values, as Django adapted it (a date is a string on SQLite),
# and is filled in from each request's values. A shape that does not pass that check is not
# templated: its requests are answered by the ORM as before.

_DEFERRED: ContextVar[list | None] = ContextVar("deferred_fragments", default=None)
_MARKER = "/*deferred fragment {}*/"
_TOKEN = re.compile(r"%[s%]")  # in Django's SQL, %s is a parameter and %% a literal percent
_SLICE = "LIMIT {} OFFSET {}"
STAND_INS = 3


def deferrable(render: Callable[..., tuple[str, list]], **values: Any) -> tuple[str, list]:
    """For an expression whose SQL text, not only its parameters, depends on its values: its
    SQL and parameters, `render(**values)`; while a template is being compiled, a marker
    instead, which the template replaces by `render` of each request's values (the keys of
    `values` name them in the template's values)."""
    deferred = _DEFERRED.get()
    if deferred is None:
        return render(**values)
    deferred.append((render, tuple(values)))
    return _MARKER.format(len(deferred) - 1), []


def _adaptations(connection) -> tuple[Callable[[Any], Any], ...]:
    """The ways Django may turn a value into the parameter it binds."""
    ops = connection.ops
    return (
        lambda value: value,
        ops.adapt_datefield_value,
        ops.adapt_datetimefield_value,
        ops.adapt_timefield_value,
    )


def _adapts(adapt: Callable[[Any], Any], value: Any, parameter: Any) -> bool:
    try:
        adapted = adapt(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return type(adapted) is type(parameter) and adapted == parameter


@dataclass(frozen=True)
class _Template:
    # SQL pieces with a deferred fragment between each two: piece 0, fragment 0, piece 1, ...
    pieces: tuple[str, ...]
    # Each piece's parameters in order: (None, constant) or (value name, adaptation).
    parameters: tuple[tuple[tuple[Any, Any], ...], ...]
    fragments: tuple[tuple[Callable[..., tuple[str, list]], tuple[str, ...]], ...]
    names: tuple[str, ...]
    converters: tuple


def stand_in_values(values: dict, round_: int) -> dict:
    """The `round_`-th set of stand-ins for `values`: each of the same type as its value and
    different from every other stand-in of every round.

    A parameter Django derives from a value in a way that comes out the same for all three
    stand-ins would be kept as a constant. Django's integer range check is one: a lookup
    beyond the column's range becomes an empty (or full) result, which is why the stand-ins
    stay small; the values themselves must be in range too, which the forms ensure."""
    stand_ins: dict[str, Any] = {}
    for index, (name, value) in enumerate(sorted(values.items())):
        # Small enough for a SMALLINT column: Django turns a lookup beyond the column's range
        # into an empty result, which would compile to other SQL.
        # Rounds differ in magnitude and parity, so that a build branching on either (which
        # it must not) gives other SQL and is refused.
        number = 20_000 + round_ * 1001 + index * 10
        if isinstance(value, bool):
            raise TypeError(f"{name}: a boolean is a shape, not a value")
        if isinstance(value, int):
            stand_ins[name] = number
        elif isinstance(value, Decimal):
            stand_ins[name] = Decimal(f"{number}.25")
        elif isinstance(value, float):
            stand_ins[name] = 50.0 + round_ + index / 1000
        elif isinstance(value, str):
            stand_ins[name] = f"stand-in {round_} {index}"
        elif isinstance(value, dt.datetime):
            stand_ins[name] = dt.datetime(2500 + round_, 1, 1, 0, index, tzinfo=dt.UTC)
        elif isinstance(value, dt.date):
            stand_ins[name] = dt.date(2500 + round_, 1 + index % 12, 1 + index // 12)
        else:
            raise TypeError(f"{name}: no stand-in for a {type(value).__name__}")
    return stand_ins


class QueryTemplate:
    """A values() queryset built by `build(shape, values)`, compiled once per shape (above).

    `build` may branch on the shape (hashable), never on a value. `limit` and `offset` values,
    when given, slice it (Django writes them into the SQL: the template binds them).
    `count=True` counts the rows instead of returning them. At most `shapes` shapes are kept,
    the least recently used dropped first: a client cannot grow the process without end.
    `prepared=True` prepares the SQL on the server (PostgreSQL, when PREPARED_STATEMENTS is on):
    for SQL whose best plan does not depend on its values, since PostgreSQL may settle on one
    plan for all of them."""

    def __init__(
        self,
        build: Callable[[Any, dict], QuerySet],
        *,
        count: bool = False,
        shapes: int = 512,
        prepared: bool = False,
    ) -> None:
        self._build = build
        self._count = count
        self._prepared = prepared
        self._shapes = shapes
        self._compiled: OrderedDict[Hashable, _Template | None] = OrderedDict()
        self._lock = Lock()

    def execute(self, shape: Hashable, values: dict) -> list[dict] | int:
        """The rows (or the count) for `values`: from the shape's template, or, for a shape
        that is not templated, from the queryset `build` makes of these values (the ORM, as
        it would answer without templates)."""
        connection = connections[DEFAULT_DB_ALIAS]  # the project has one database
        key = (connection.vendor, shape)
        with self._lock:
            known = key in self._compiled
            if known:
                self._compiled.move_to_end(key)
                template = self._compiled[key]
        if not known:
            # Compiled outside the lock, so that a new shape (~10 ms) holds up no request for
            # the shapes already known; two threads may compile the same one, to the same end.
            stand_ins = [stand_in_values(values, k) for k in range(STAND_INS)]
            template = self._compile(connection, shape, stand_ins)
            with self._lock:
                self._compiled[key] = template
                if len(self._compiled) > self._shapes:
                    self._compiled.popitem(last=False)
        if template is None:
            return self.evaluate(shape, values)
        sql, params = [], []
        for index, piece in enumerate(template.pieces):
            sql.append(piece)
            for name, value in template.parameters[index]:
                params.append(value if name is None else value(values[name]))
            if index < len(template.fragments):
                render, names = template.fragments[index]
                fragment_sql, fragment_params = render(**{name: values[name] for name in names})
                sql.append(fragment_sql)
                params.extend(fragment_params)
        if self._count:
            with connection.cursor() as cursor:
                _execute(connection, cursor, "".join(sql), params, prepared=self._prepared)
                return cursor.fetchone()[0]
        return _fetch_dicts(
            connection,
            "".join(sql),
            params,
            template.names,
            template.converters,
            prepared=self._prepared,
        )

    def evaluate(self, shape: Hashable, values: dict) -> list[dict] | int:
        """What execute answers, through the ORM alone: for shapes not worth compiling (one
        that changes with every request)."""
        queryset = self._build(shape, values)
        return queryset.count() if self._count else list(queryset)

    def templated(self, shape: Hashable) -> bool:
        """Whether the shape was compiled to a template (False before its first execute)."""
        return self._compiled.get((connections[DEFAULT_DB_ALIAS].vendor, shape)) is not None

    def bound_names(self, shape: Hashable) -> list[str] | None:
        """The value each bound parameter of the shape's compiled template takes, in order
        (None before it is compiled, or when it is not templated)."""
        template = self._compiled.get((connections[DEFAULT_DB_ALIAS].vendor, shape))
        if template is None:
            return None
        return [name for specs in template.parameters for name, _ in specs if name is not None]

    def _compile(self, connection, shape: Hashable, stand_ins: list[dict]) -> _Template | None:
        compiled = []
        for values in stand_ins:
            deferred: list = []
            token = _DEFERRED.set(deferred)
            try:
                query = self._build(shape, values).query
                compiler = query.get_compiler(connection=connection)
                sql, params = compiler.as_sql()
            except (EmptyResultSet, FullResultSet):
                return None  # a stand-in the SQL cannot hold: no template, the ORM answers
            finally:
                _DEFERRED.reset(token)
            params = list(params)
            if "limit" in values:
                written = _SLICE.format(values["limit"], values["offset"])
                if sql.count(written) != 1:
                    return None
                position = _parameters_in(sql[: sql.index(written)])
                sql = sql.replace(written, _SLICE.format("%s", "%s"))
                params[position:position] = [values["limit"], values["offset"]]
            if self._count:
                sql = f"SELECT COUNT(*) FROM ({sql}) counted"
            compiled.append((sql, params, deferred, query, compiler))
        first_sql, first_params, first_deferred, query, compiler = compiled[0]
        shape = (first_sql, len(first_params), [names for _, names in first_deferred])
        for sql, params, deferred, _, _ in compiled[1:]:
            if (sql, len(params), [names for _, names in deferred]) != shape:
                return None
        adaptations = _adaptations(connection)
        specs: list[tuple[Any, Any]] = []
        for position, constant in enumerate(first_params):
            seen = [params[position] for _, params, _, _, _ in compiled]
            if all(type(value) is type(constant) and value == constant for value in seen):
                specs.append((None, constant))
                continue
            # psycopg's typed integers (Int2, Int4, ...), which Django binds integers as.
            retype = type(constant)
            candidates = adaptations
            if issubclass(retype, int) and retype not in (int, bool):
                candidates = (*adaptations, retype)
            matches = [
                (name, adapt)
                for name in stand_ins[0]
                for adapt in candidates
                if all(
                    _adapts(adapt, values[name], parameter)
                    for values, parameter in zip(stand_ins, seen, strict=True)
                )
            ]
            if len({name for name, _ in matches}) != 1:
                return None  # not one of the values, or more than one could be it
            specs.append(matches[0])
        # Split the SQL at the markers, "/*deferred fragment N*/" in order.
        texts, rest = [], first_sql
        for index in range(len(first_deferred)):
            marker = _MARKER.format(index)
            if rest.count(marker) != 1:
                return None
            before, rest = rest.split(marker)
            texts.append(before)
        texts.append(rest)
        parameters, taken = [], 0
        for text in texts:
            count = _parameters_in(text)
            parameters.append(tuple(specs[taken : taken + count]))
            taken += count
        names, converters = ((), ()) if self._count else _row_shape(query, compiler)
        return _Template(tuple(texts), tuple(parameters), tuple(first_deferred), names, converters)


def _parameters_in(sql: str) -> int:
    return sum(1 for token in _TOKEN.findall(sql) if token == "%s")


def model_columns(model) -> tuple[str, ...]:
    """Every concrete column of `model`, in its fields' order (for model_instances)."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def model_instances(model, rows: list[dict], columns: tuple[str, ...]) -> list:
    """Model instances from a template's rows of `columns` (model_columns, or some of them:
    the others are deferred), as the ORM builds them: rows already converted, marked as
    loaded from the database."""
    # from_db takes the values in the model's field order (it fills the missing ones in).
    ordered = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    return [
        model.from_db(DEFAULT_DB_ALIAS, ordered, [row[column] for column in ordered])
        for row in rows
    ]
