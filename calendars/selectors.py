from datetime import date, datetime

from django.db.models import OuterRef, Q, QuerySet

from calendars.models import Hold
from core.compiled_queries import QueryTemplate, model_instances


def hold_active_q(*, now: datetime) -> Q:
    """Holds that still hold their nights: all but pending requests past their expiry."""
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def hold_overlap_q(*, start: date, end: date) -> Q:
    """Holds sharing a night with [start, end). Ranges are half-open: a stay ending on the 5th
    and one starting on the 5th share no night, so a guest may arrive the day another leaves.
    The one definition of "taken", for every write and for the search."""
    return Q(start__lt=end, end__gt=start)


def holds_overlapping(*, property_id: int, start: date, end: date) -> QuerySet[Hold]:
    """The listing's holds (void ones included) sharing a night with [start, end), by start."""
    return Hold.objects.filter(
        hold_overlap_q(start=start, end=end), property_id=property_id
    ).order_by("start")


_LOADED_HOLD_COLUMNS = ("id", "start", "end", "kind", "expires_at")


def _overlapping_holds(shape: tuple[bool, bool], values: dict) -> QuerySet:
    active, excluding = shape
    queryset = Hold.objects.filter(
        hold_overlap_q(start=values["start"], end=values["end"]),
        property_id=values["property_id"],
    )
    if active:
        queryset = queryset.filter(hold_active_q(now=values["now"]))
    if excluding:
        queryset = queryset.exclude(pk=values["exclude_id"])
    return queryset.order_by("start").values(*_LOADED_HOLD_COLUMNS)


# Every booking and block reads these: compiled once per shape (core.compiled_queries).
_OVERLAPPING_HOLDS = QueryTemplate(_overlapping_holds, shapes=4)


def holds_overlapping_loaded(
    *,
    property_id: int,
    start: date,
    end: date,
    active_at: datetime | None = None,
    exclude_id: int | None = None,
) -> list[Hold]:
    """holds_overlapping's holds (only those active at `active_at` when given, and not
    `exclude_id`), by start, with their id, nights, kind and expiry loaded: one query."""
    values: dict = {"property_id": property_id, "start": start, "end": end}
    if active_at is not None:
        values["now"] = active_at
    if exclude_id is not None:
        values["exclude_id"] = exclude_id
    shape = (active_at is not None, exclude_id is not None)
    rows = _OVERLAPPING_HOLDS.execute(shape, values)
    assert isinstance(rows, list)
    return model_instances(Hold, rows, _LOADED_HOLD_COLUMNS)


def holds_taking(*, start: date, end: date, now: datetime) -> QuerySet[Hold]:
    """For a properties queryset (a subquery): the active holds of the row's listing that share
    a night with [start, end)."""
    return Hold.objects.filter(
        hold_overlap_q(start=start, end=end),
        hold_active_q(now=now),
        property_id=OuterRef("pk"),
    )


def holds_in_window(*, property_id: int, start: date, end: date, now: datetime) -> QuerySet[Hold]:
    """The listing's active holds sharing a night with [start, end), by start: what a calendar
    shows as taken (never who holds it)."""
    return (
        holds_overlapping(property_id=property_id, start=start, end=end)
        .filter(hold_active_q(now=now))
        .only("start", "end", "kind")
    )


def block_list(*, property_id: int) -> QuerySet[Hold]:
    """The listing's host blocks, by start."""
    return Hold.objects.filter(property_id=property_id, kind=Hold.Kind.BLOCK).order_by(
        "start", "id"
    )
