"""Parsing imported feeds and building the export, without the database or the network."""

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calendars.ical import ExportEvent, FeedEvent, FeedUnreadable, calendar_build, feed_parse
from calendars.tests.samples import airbnb_feed, booking_com_feed, event, feed

WINDOW = {"window_start": date(2026, 1, 1), "window_end": date(2028, 1, 1), "max_events": 100}
DEC = date(2026, 12, 1)


def parse(body: bytes, time_zone: str = "UTC", **window):
    return feed_parse(body=body, time_zone=time_zone, **{**WINDOW, **window})


def test_airbnb_export_maps_day_for_day_with_the_end_exclusive():
    body = airbnb_feed(
        [(DEC, DEC + timedelta(days=3))], blocked=[(date(2026, 12, 20), date(2026, 12, 21))]
    )

    parsed = parse(body)

    assert parsed.events == [
        FeedEvent(uid="1418fb94e984-0000a3c1b2d9e8f7@airbnb.com", start=DEC, end=date(2026, 12, 4)),
        FeedEvent(uid="7f5e2d1c-0000@airbnb.com", start=date(2026, 12, 20), end=date(2026, 12, 21)),
    ]
    assert parsed.skipped_count == 0


def test_booking_com_export_is_read_too():
    parsed = parse(booking_com_feed([(DEC, date(2026, 12, 8))]))

    assert parsed.events == [
        FeedEvent(uid="9000000@admin.booking.com", start=DEC, end=date(2026, 12, 8))
    ]


def test_timed_events_become_the_listings_local_nights():
    # 23:30 UTC on the 1st is the 2nd in Tokyo; 01:00 UTC on the 5th is still the 5th there.
    body = feed(
        event(
            "timed",
            datetime(2026, 12, 1, 23, 30, tzinfo=UTC),
            datetime(2026, 12, 5, 1, 0, tzinfo=UTC),
        ),
        event(
            "floating",
            datetime(2026, 12, 10, 15, 0),  # noqa: DTZ001 (a floating time is the point)
            datetime(2026, 12, 12, 10, 0),  # noqa: DTZ001
        ),
        event(
            "hours",
            datetime(2026, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
            datetime(2026, 12, 20, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
        ),
    )

    parsed = parse(body, time_zone="Asia/Tokyo")

    assert parsed.events == [
        FeedEvent(uid="timed", start=date(2026, 12, 2), end=date(2026, 12, 5)),
        FeedEvent(uid="floating", start=date(2026, 12, 10), end=date(2026, 12, 12)),
        # A few busy hours still block that night.
        FeedEvent(uid="hours", start=date(2026, 12, 20), end=date(2026, 12, 21)),
    ]


def test_an_all_day_event_without_an_end_is_one_night_and_duration_is_read():
    body = feed(
        event("one-day", DEC),
        event("two-days", date(2026, 12, 10), duration=timedelta(days=2)),
    )

    assert parse(body).events == [
        FeedEvent(uid="one-day", start=DEC, end=date(2026, 12, 2)),
        FeedEvent(uid="two-days", start=date(2026, 12, 10), end=date(2026, 12, 12)),
    ]


def test_cancelled_free_and_recurring_events_are_skipped_and_counted():
    body = feed(
        event("cancelled", DEC, date(2026, 12, 3), status="CANCELLED"),
        event("free", DEC, date(2026, 12, 3), transp="TRANSPARENT"),
        event("weekly", DEC, date(2026, 12, 2), rrule={"freq": "weekly", "count": 1000}),
        event("kept", date(2026, 12, 5), date(2026, 12, 6)),
    )

    parsed = parse(body)

    assert [item.uid for item in parsed.events] == ["kept"]
    assert parsed.skipped_count == 3
    assert [item["uid"] for item in parsed.skipped] == ["cancelled", "free", "weekly"]
    assert "recurring" in parsed.skipped[2]["reason"]


def test_events_outside_the_window_are_left_out_silently():
    body = feed(
        event("past", date(2025, 6, 1), date(2025, 6, 3)),
        event("ends-on-window-start", date(2025, 12, 30), date(2026, 1, 1)),
        event("straddles", date(2025, 12, 30), date(2026, 1, 2)),
        event("beyond", date(2028, 1, 1), date(2028, 1, 3)),
    )

    parsed = parse(body)

    assert [item.uid for item in parsed.events] == ["straddles"]
    assert parsed.skipped_count == 0


def test_broken_events_are_skipped_with_a_reason_and_the_others_kept():
    body = feed(event("good", DEC, date(2026, 12, 2))).replace(
        b"END:VCALENDAR",
        b"BEGIN:VEVENT\r\nUID:bad-date\r\nDTSTART;VALUE=DATE:2026XX01\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:backwards\r\nDTSTART;VALUE=DATE:20261210\r\n"
        b"DTEND;VALUE=DATE:20261205\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:no-start\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:good\r\nDTSTART;VALUE=DATE:20261220\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR",
    )

    parsed = parse(body)

    assert parsed.events == [FeedEvent(uid="good", start=DEC, end=date(2026, 12, 2))]
    assert [item["uid"] for item in parsed.skipped] == ["bad-date", "backwards", "no-start", "good"]
    assert "twice" in parsed.skipped[3]["reason"]


def test_events_without_a_uid_or_with_a_huge_one_get_a_stable_key():
    body = feed(
        event(None, DEC, date(2026, 12, 2)), event("u" * 1000, date(2026, 12, 5), date(2026, 12, 6))
    )

    first, second = parse(body).events

    assert first.uid.startswith("no-uid-")
    assert first.uid == parse(body).events[0].uid
    assert second.uid.startswith("sha256-")
    assert len(second.uid) <= 255


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not an iCalendar"),
        (b"<html><body>Sign in</body></html>", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "not an iCalendar"),
        (b"BEGIN:VCALENDAR\r\nSUMMARY:\xff\xfe\r\nEND:VCALENDAR\r\n", "not UTF-8"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "not a VCALENDAR"),
    ],
)
def test_a_body_that_is_not_a_calendar_is_refused_with_a_reason(body, message):
    with pytest.raises(FeedUnreadable, match=message):
        parse(body)


def test_more_events_than_allowed_is_refused_whole():
    body = feed(*(event(f"e{index}", DEC, date(2026, 12, 2)) for index in range(11)))

    with pytest.raises(FeedUnreadable, match="11 events, more than the 10 allowed"):
        parse(body, max_events=10)


def test_a_byte_order_mark_is_tolerated():
    body = b"\xef\xbb\xbf" + booking_com_feed([(DEC, date(2026, 12, 2))])

    assert len(parse(body).events) == 1


def test_the_export_is_all_day_events_that_parse_back():
    stamp = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    body = calendar_build(
        events=[
            ExportEvent(
                uid="hold-7@test", start=DEC, end=date(2026, 12, 4), summary="Reserved", stamp=stamp
            )
        ]
    )

    calendar = icalendar.Calendar.from_ical(body)
    vevent: Any
    (vevent,) = calendar.walk("VEVENT")

    assert b"DTSTART;VALUE=DATE:20261201\r\n" in body
    assert b"DTEND;VALUE=DATE:20261204\r\n" in body
    assert calendar["VERSION"] == "2.0"
    assert str(calendar["PRODID"]).startswith("-//")
    assert vevent.DTSTART == DEC
    assert date(2026, 12, 4) == vevent.DTEND
    assert stamp == vevent.DTSTAMP
    assert str(vevent["UID"]) == "hold-7@test"
    assert str(vevent["SUMMARY"]) == "Reserved"
    assert parse(body).events == [FeedEvent(uid="hold-7@test", start=DEC, end=date(2026, 12, 4))]


def test_mutated_feeds_are_read_or_refused_never_a_crash():
    # Random cuts and insertions of iCalendar's own syntax into real-looking feeds (a wider run
    # of this found the parser's AttributeError and an OverflowError, both handled now).
    rng = random.Random(15)
    pieces = [
        b"\r\n",
        b":",
        b";",
        b"VALUE=DATE",
        b"BEGIN:VEVENT",
        b"END:VEVENT",
        b"DTSTART",
        b"DTEND",
        b"DURATION:P",
        b"TZID=",
        b"20261301",
        b"T250000Z",
        b"\xff",
        b"RRULE:",
    ]
    bodies = [
        airbnb_feed([(DEC, date(2026, 12, 4))], blocked=[(date(2026, 12, 10), date(2026, 12, 12))]),
        feed(event("x", DEC, duration=timedelta(days=99999))),
    ]
    outcomes = set()
    for _ in range(400):
        body = bytearray(rng.choice(bodies))
        for _ in range(rng.randint(1, 6)):
            position = rng.randrange(len(body) + 1)
            if rng.random() < 0.4:
                del body[position : position + rng.randint(1, 20)]
            else:
                body[position:position] = rng.choice(pieces)
        try:
            parse(bytes(body))
        except FeedUnreadable:
            outcomes.add("refused")
        else:
            outcomes.add("read")

    assert outcomes == {"read", "refused"}
