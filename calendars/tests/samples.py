"""iCalendar bodies shaped like the feeds hosts paste in, built with the icalendar package."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import icalendar


def airbnb_feed(
    stays: list[tuple[date, date]], *, blocked: Sequence[tuple[date, date]] = ()
) -> bytes:
    """Like Airbnb's export: all-day events, "Reserved" with a reservation link, and "Airbnb
    (Not available)" for the host's own blocks; UIDs are opaque hex at airbnb.com."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Airbnb Inc//Hosting Calendar 1.0//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for index, (start, end) in enumerate(stays):
        calendar.add_component(
            _all_day(
                f"1418fb94e984-{index:04d}a3c1b2d9e8f7@airbnb.com",
                start,
                end,
                "Reserved",
                description=f"Reservation URL: https://www.airbnb.com/hosting/reservations/"
                f"details/HM{index:08d}\nPhone Number (Last 4 Digits): 1234",
            )
        )
    for index, (start, end) in enumerate(blocked):
        calendar.add_component(
            _all_day(f"7f5e2d1c-{index:04d}@airbnb.com", start, end, "Airbnb (Not available)")
        )
    return calendar.to_ical()


def booking_com_feed(closed: list[tuple[date, date]]) -> bytes:
    """Like Booking.com's export: "CLOSED - Not available" all-day events, numeric UIDs."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//admin.booking.com//EN")
    calendar.add("version", "2.0")
    for index, (start, end) in enumerate(closed):
        calendar.add_component(
            _all_day(f"{9_000_000 + index}@admin.booking.com", start, end, "CLOSED - Not available")
        )
    return calendar.to_ical()


def feed(*events: icalendar.Event) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Test//Feeds//EN")
    calendar.add("version", "2.0")
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def event(
    uid: str | None,
    start: date | datetime,
    end: date | datetime | None = None,
    **properties: object,
) -> icalendar.Event:
    """A VEVENT; extra properties by name (rrule={"freq": "daily"}, status="CANCELLED")."""
    item = icalendar.Event()
    if uid is not None:
        item.add("uid", uid)
    item.add("dtstamp", datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    item.add("dtstart", start)
    if end is not None:
        item.add("dtend", end)
    for name, value in properties.items():
        item.add(name.replace("_", "-"), value)
    return item


def _all_day(
    uid: str, start: date, end: date, summary: str, *, description: str = ""
) -> icalendar.Event:
    item = event(uid, start, end, summary=summary)
    if description:
        item.add("description", description)
    return item


def nights(start: date, count: int) -> tuple[date, date]:
    return start, start + timedelta(days=count)
