"""Dates belong to the listing: "today" is the date on a calendar in the listing's own IANA
time zone, never UTC's or the server's. A listing at UTC+14 is already in tomorrow while one at
UTC-11 is still in yesterday; at any instant the world's calendars show at most three dates."""

import operator
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from core import lookups  # noqa: F401  (registers CharField's any_of)


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA zones a listing may name: the pinned tzdata package's (config/settings/base.py
    makes it zoneinfo's only source, so every instance agrees), less the legacy abbreviations
    ("EST", "CET", "GMT+0", ...) and "Factory": "Area/Location" names, and "UTC"."""
    return frozenset(
        name
        for name in available_timezones()
        if ("/" in name or name == "UTC") and not name.startswith(("SystemV/", "posix", "right"))
    )


def is_time_zone(name: str) -> bool:
    return name in time_zone_names()


def validate_time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(
            f"{value} is not an IANA time zone name such as Europe/Paris or America/New_York."
        )


def local_today(time_zone: str) -> date:
    """Today's date in `time_zone` (an IANA name)."""
    return timezone.now().astimezone(ZoneInfo(time_zone)).date()


@cache
def _zones() -> list[tuple[str, ZoneInfo]]:
    # ZoneInfo keeps only a few zones strongly cached; reading ~600 files per call cost ~20 ms.
    return [(name, ZoneInfo(name)) for name in sorted(time_zone_names())]


def zones_by_local_today() -> dict[date, list[str]]:
    """Every zone, grouped by the date it shows right now (two or three groups)."""
    return _zones_by_local_today_at(_quarter_hour(timezone.now()))


def _quarter_hour(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


@lru_cache(maxsize=8)
def _zones_by_local_today_at(quarter: datetime) -> dict[date, list[str]]:
    # Every zone's midnight falls on a quarter hour of UTC, so the grouping holds for the whole
    # quarter hour that starts at `quarter`: computed once per quarter hour, not per request.
    groups: dict[date, list[str]] = {}
    for name, zone in _zones():
        groups.setdefault(quarter.astimezone(zone).date(), []).append(name)
    return groups


def zones_by_utc_offset(now: datetime | None = None) -> list[tuple[timedelta, list[str]]]:
    """Every zone, grouped by its UTC offset at `now` (default: now), a few dozen groups: zones
    sharing an offset show the same wall clock. For rules judged on a listing's local time."""
    return _zones_by_utc_offset_at(_quarter_hour(now or timezone.now()))


@lru_cache(maxsize=8)
def _zones_by_utc_offset_at(quarter: datetime) -> list[tuple[timedelta, list[str]]]:
    # Offsets change at DST transitions, which fall on quarter hours of UTC like midnights.
    groups: dict[timedelta, list[str]] = {}
    for name, zone in _zones():
        offset = quarter.astimezone(zone).utcoffset()
        assert offset is not None  # a ZoneInfo always has one
        groups.setdefault(offset, []).append(name)
    return list(groups.items())


def date_vs_local_today_q(*, day: date, lookup: str, zone_field: str = "time_zone") -> Q:
    """Rows whose local today, in the zone named by `zone_field`, satisfies
    `day <lookup> local_today`, e.g. lookup="gte": the rows for which `day` is today or later.
    Exact for every zone, as one condition on the zone column (none when every zone agrees)."""
    compare = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[lookup]
    groups = zones_by_local_today()
    matching = [zone for today, zones in groups.items() if compare(day, today) for zone in zones]
    if len(matching) == len(time_zone_names()):
        return Q()
    return Q(**{f"{zone_field}__any_of": matching})


def local_dates_vs_today_q(*, date_field: str, lookup: str, zone_field: str) -> Q:
    """Rows whose `date_field` satisfies `date_field <lookup> local today` in the zone named by
    `zone_field` (a row's own date against its listing's calendar), e.g. lookup="gt": dates
    after the row's local today. One branch per date the world's calendars show now."""
    condition = Q(pk__in=[])
    for today, zones in zones_by_local_today().items():
        condition |= Q(**{f"{zone_field}__any_of": zones, f"{date_field}__{lookup}": today})
    return condition


def calendar_epoch() -> str:
    """Changes at every minute of UTC: for cache keys of answers that depend on the listings'
    clocks. Every zone's midnight falls on a quarter hour of UTC, but an advance-notice deadline
    falls at a listing's check-in time (any minute of its zone), so a cached dated search never
    outlives the minute it was computed in."""
    return timezone.now().replace(second=0, microsecond=0).isoformat()
