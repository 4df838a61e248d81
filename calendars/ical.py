"""iCalendar (RFC 5545) text: the export feed's body, and an imported feed's events as night
ranges. Pure functions over bytes and dates; the database and the network are elsewhere
(calendars/feeds.py, calendars/fetch.py).

Nights are half-open ranges [start, end): an all-day event with DTSTART 2026-12-01 and DTEND
2026-12-04 (exclusive, RFC 5545 3.6.1) holds the nights of the 1st, 2nd and 3rd, exactly like a
stay checking in on the 1st and out on the 4th. That is what Airbnb and Booking.com export."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//Booking API//Calendar export 1.0//EN"
# The longest UID kept as it is; longer ones are replaced by their SHA-256 (the column's size).
UID_MAX_LENGTH = 255
# How many skipped events a feed's status lists (the count is always exact).
SKIPPED_LISTED = 20


class FeedUnreadable(ValueError):
    """The body is not an iCalendar a person could fix by looking at one event: not UTF-8, not
    a VCALENDAR, or more events than allowed. The message is shown to the host as it is."""


@dataclass(frozen=True)
class ExportEvent:
    uid: str
    start: date
    end: date
    summary: str
    stamp: datetime


@dataclass(frozen=True)
class FeedEvent:
    """One event of an imported feed, as the nights it holds in the listing's calendar."""

    uid: str
    start: date
    end: date


@dataclass
class ParsedFeed:
    events: list[FeedEvent] = field(default_factory=list)
    skipped_count: int = 0
    # The first SKIPPED_LISTED, as {"uid", "reason"}: what the host sees on the feed.
    skipped: list[dict[str, str]] = field(default_factory=list)

    def skip(self, uid: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SKIPPED_LISTED:
            self.skipped.append({"uid": uid, "reason": reason})


def calendar_build(*, events: Iterable[ExportEvent]) -> bytes:
    """A VCALENDAR of all-day events (DTSTART;VALUE=DATE, DTEND the exclusive end day)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for item in events:
        event = icalendar.Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp)
        # A date (not a datetime) serialises as VALUE=DATE: an all-day event, no time zone.
        event.add("dtstart", item.start)
        event.add("dtend", item.end)
        event.add("summary", item.summary)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()


def feed_parse(
    *, body: bytes, time_zone: str, window_start: date, window_end: date, max_events: int
) -> ParsedFeed:
    """The events of an imported feed that hold nights in [window_start, window_end).
    Raises FeedUnreadable when the body as a whole cannot be read; a single unreadable,
    recurring or cancelled event is skipped and counted, never fatal."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FeedUnreadable(
            f"The feed is not UTF-8 text (byte {exc.start} is invalid); iCalendar is UTF-8."
        ) from exc
    # A BOM is common in feeds written on Windows; the parser would read it as part of a name.
    text = text.removeprefix("\ufeff")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    # The parser's own failure is a ValueError; a few malformed inputs trip over its internals
    # instead (a property given twice where one is expected: found by fuzzing, icalendar 7.3).
    except (ValueError, AttributeError, TypeError, IndexError) as exc:
        raise FeedUnreadable(f"The feed is not an iCalendar (RFC 5545) file: {exc}"[:500]) from exc
    if calendar.name != "VCALENDAR":
        raise FeedUnreadable(f"The feed is a {calendar.name[:40]}, not a VCALENDAR.")
    vevents = [component for component in calendar.walk("VEVENT")]
    if len(vevents) > max_events:
        raise FeedUnreadable(
            f"The feed has {len(vevents)} events, more than the {max_events} allowed."
        )

    zone = ZoneInfo(time_zone)
    parsed = ParsedFeed()
    seen: set[str] = set()
    for vevent in vevents:
        uid = _uid(vevent)
        reason = _skip_reason(vevent)
        if reason:
            parsed.skip(uid, reason)
            continue
        try:
            start, end = _nights(vevent, zone)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            parsed.skip(uid, f"unreadable DTSTART/DTEND/DURATION: {exc}"[:200])
            continue
        if end <= window_start or start >= window_end:
            continue  # past or beyond the booking horizon: nothing to hold, nothing to report
        if uid in seen:
            parsed.skip(uid, "the same UID appears twice; the first event is kept")
            continue
        seen.add(uid)
        parsed.events.append(FeedEvent(uid=uid, start=start, end=end))
    return parsed


def _uid(vevent: icalendar.cal.Component) -> str:
    value = vevent.get("uid")
    if value is None or isinstance(value, list):
        # No UID (or several): the dates are the identity, so a moved event is a new one.
        raw = f"{vevent.get('dtstart')}/{vevent.get('dtend')}"
        return "no-uid-" + sha256(raw.encode()).hexdigest()[:32]
    uid = str(value).strip()
    if len(uid) > UID_MAX_LENGTH:
        return "sha256-" + sha256(uid.encode()).hexdigest()
    return uid


def _skip_reason(vevent: icalendar.cal.Component) -> str:
    status = str(vevent.get("status", "")).upper()
    if status == "CANCELLED":
        return "cancelled (STATUS:CANCELLED)"
    if str(vevent.get("transp", "")).upper() == "TRANSPARENT":
        return "marked free (TRANSP:TRANSPARENT)"
    # Recurring series are refused, not expanded: booking platforms never send them, and a
    # hostile RRULE (every minute for ever) would cost unbounded work to expand.
    if any(name in vevent for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
        return "recurring events (RRULE, RDATE, RECURRENCE-ID) are not imported"
    return ""


def _nights(vevent: icalendar.cal.Component, zone: ZoneInfo) -> tuple[date, date]:
    """[start, end) in the listing's calendar. All-day events map day for day; a timed event
    holds every night from its local start date to its local end date, at least one."""
    if "DTSTART" not in vevent:
        raise ValueError("no DTSTART")
    start_value = _value(vevent, "DTSTART")
    if "DTEND" in vevent:
        end_value = _value(vevent, "DTEND")
    elif "DURATION" in vevent:
        duration = _value(vevent, "DURATION")
        if not isinstance(duration, timedelta):
            raise ValueError("DURATION is not a duration")
        end_value = start_value + duration
    else:
        # RFC 5545 3.6.1: an all-day event without an end lasts one day; a timed one, no time.
        end_value = start_value + timedelta(days=1) if _is_date(start_value) else start_value
    start = _local_date(start_value, zone)
    end = _local_date(end_value, zone)
    if end < start:
        raise ValueError(f"it ends ({end}) before it starts ({start})")
    if end == start:
        if _is_date(start_value):
            raise ValueError(f"it ends on the day it starts ({start})")
        end = start + timedelta(days=1)  # a few busy hours still block that night
    return start, end


def _value(vevent: icalendar.cal.Component, name: str) -> Any:
    """A date-valued property's Python value (a date, datetime or timedelta; or, from a
    hostile feed, something else, which the callers check); a broken one raises ValueError."""
    value: Any = vevent[name]
    if isinstance(value, list):
        raise ValueError(f"{name} appears more than once")
    return value.dt


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _local_date(value: object, zone: ZoneInfo) -> date:
    if isinstance(value, datetime):
        # Floating times (and unknown TZIDs, which the parser leaves naive) are the listing's.
        return (
            value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
        ).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"{type(value).__name__} is not a date")
