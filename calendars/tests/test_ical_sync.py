"""Importing feeds: fetched from a local HTTP server, reconciled into holds of kind `import`."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from calendars.feeds import (
    SYNC_FAILED_MESSAGE,
    ical_feed_create,
    ical_feed_delete,
    ical_feed_sync,
    ical_feeds_sync_all,
)
from calendars.fetch import FetchError, feed_fetch
from calendars.models import Hold, IcalFeed, IcalFeedEvent
from calendars.services import hold_create, hold_release
from calendars.tests.samples import airbnb_feed, booking_com_feed, event, feed
from core.exceptions import NotFound
from core.local_time import local_today
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def day(offset: int):
    return local_today("UTC") + timedelta(days=offset)


def stay(offset: int, nights: int):
    return day(offset), day(offset + nights)


def hold_for(listing, start, end, kind=Hold.Kind.BOOKING) -> Hold:
    with transaction.atomic():
        Property.objects.select_for_update().get(pk=listing.pk)
        return hold_create(listing=listing, start=start, end=end, kind=kind)


def imported(listing) -> list[tuple]:
    return list(
        Hold.objects.filter(property=listing, kind=Hold.Kind.IMPORT)
        .order_by("start")
        .values_list("start", "end")
    )


@pytest.fixture
def listing():
    return PropertyFactory.create()


@pytest.fixture
def airbnb(feed_server, listing):
    """A feed of `listing` served at /airbnb.ics (its body set by each test)."""
    url = feed_server.serve("/airbnb.ics", airbnb_feed([]))
    return ical_feed_create(listing=listing, url=url, name="Airbnb")


def serve(feed_server, body: bytes, path: str = "/airbnb.ics", **options) -> None:
    feed_server.serve(path, body, **options)


def test_new_events_become_import_holds_and_the_status_says_so(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3)], blocked=[stay(20, 1)]))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert imported(listing) == [stay(10, 3), stay(20, 1)]
    assert (outcome.held, outcome.conflicts, outcome.error) == (2, 0, "")
    feed = outcome.feed
    assert (feed.event_count, feed.conflict_count, feed.last_error) == (2, 0, "")
    assert feed.last_sync_at == feed.last_success_at is not None
    assert set(IcalFeedEvent.objects.values_list("uid", flat=True)) == {
        "1418fb94e984-0000a3c1b2d9e8f7@airbnb.com",
        "7f5e2d1c-0000@airbnb.com",
    }


def test_a_second_sync_of_the_same_feed_changes_nothing(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3), stay(15, 2)]))
    ical_feed_sync(feed_id=airbnb.pk)
    before = list(Hold.objects.order_by("pk").values_list("pk", "start", "end"))

    ical_feed_sync(feed_id=airbnb.pk)

    assert list(Hold.objects.order_by("pk").values_list("pk", "start", "end")) == before


def test_a_moved_event_moves_its_hold(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    ical_feed_sync(feed_id=airbnb.pk)
    (hold,) = Hold.objects.filter(kind=Hold.Kind.IMPORT)
    serve(feed_server, airbnb_feed([stay(11, 5)]))

    ical_feed_sync(feed_id=airbnb.pk)

    hold.refresh_from_db()
    assert (hold.start, hold.end) == stay(11, 5)
    assert imported(listing) == [stay(11, 5)]


def test_vanished_and_cancelled_events_release_their_nights(feed_server, listing, airbnb):
    serve(
        feed_server,
        feed(event("a", *stay(10, 2)), event("b", *stay(20, 2)), event("c", *stay(30, 2))),
    )
    ical_feed_sync(feed_id=airbnb.pk)
    serve(feed_server, feed(event("a", *stay(10, 2)), event("c", *stay(30, 2), status="CANCELLED")))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert imported(listing) == [stay(10, 2)]
    assert list(IcalFeedEvent.objects.values_list("uid", flat=True)) == ["a"]
    assert outcome.feed.skipped_count == 1


def test_an_event_over_a_booking_is_a_conflict_and_the_booking_is_untouched(
    feed_server, listing, airbnb
):
    booking_hold = hold_for(listing, *stay(10, 4))
    serve(feed_server, feed(event("over", *stay(12, 3)), event("free", *stay(20, 2))))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert (outcome.held, outcome.conflicts, outcome.error) == (1, 1, "")
    assert imported(listing) == [stay(20, 2)]
    assert list(Hold.objects.filter(kind=Hold.Kind.BOOKING).values_list("pk", "start", "end")) == [
        (booking_hold.pk, *stay(10, 4))
    ]
    conflict = IcalFeedEvent.objects.get(uid="over")
    assert (conflict.hold, conflict.start, conflict.end) == (None, *stay(12, 3))
    assert outcome.feed.conflict_count == 1


def test_a_conflict_is_held_once_its_nights_are_free(feed_server, listing, airbnb):
    booking_hold = hold_for(listing, *stay(10, 4))
    serve(feed_server, feed(event("over", *stay(12, 3))))
    ical_feed_sync(feed_id=airbnb.pk)
    with transaction.atomic():
        hold_release(hold=booking_hold)

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert (outcome.held, outcome.conflicts) == (1, 0)
    assert imported(listing) == [stay(12, 3)]


def test_a_move_onto_taken_nights_releases_the_old_ones_and_is_a_conflict(
    feed_server, listing, airbnb
):
    serve(feed_server, feed(event("a", *stay(10, 2))))
    ical_feed_sync(feed_id=airbnb.pk)
    hold_for(listing, day(30), day(33), kind=Hold.Kind.BLOCK)
    serve(feed_server, feed(event("a", *stay(31, 2))))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert imported(listing) == []
    assert outcome.conflicts == 1
    assert IcalFeedEvent.objects.get().hold is None


def test_two_events_swapping_dates_both_stay_held(feed_server, listing, airbnb):
    serve(feed_server, feed(event("a", *stay(10, 2)), event("b", *stay(12, 2))))
    ical_feed_sync(feed_id=airbnb.pk)
    serve(feed_server, feed(event("a", *stay(12, 2)), event("b", *stay(10, 2))))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert (outcome.held, outcome.conflicts) == (2, 0)
    assert dict(IcalFeedEvent.objects.values_list("uid", "start")) == {"a": day(12), "b": day(10)}


def test_overlapping_events_of_two_feeds_hold_the_nights_once(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    url = feed_server.serve("/booking.ics", booking_com_feed([stay(11, 3)]))
    booking_com = ical_feed_create(listing=listing, url=url, name="Booking.com")
    ical_feed_sync(feed_id=airbnb.pk)

    outcome = ical_feed_sync(feed_id=booking_com.pk)

    assert outcome.conflicts == 1
    assert imported(listing) == [stay(10, 3)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"body": b"<html>Please sign in</html>"}, "not an iCalendar"),
        ({"body": b"BEGIN:VCALENDAR\r\nX:\xff\r\nEND:VCALENDAR\r\n"}, "not UTF-8"),
        ({"body": b"gone", "status": 404}, "HTTP 404"),
        ({"body": b"down", "status": 503}, "HTTP 503"),
    ],
)
def test_a_feed_that_cannot_be_read_is_reported_and_its_nights_stay_held(
    feed_server, listing, airbnb, options, message
):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    ical_feed_sync(feed_id=airbnb.pk)
    body = options.pop("body")
    serve(feed_server, body, **options)

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert message in outcome.error
    feed = IcalFeed.objects.get()
    assert message in feed.last_error
    assert feed.last_sync_at is not None
    assert feed.last_success_at is not None
    assert feed.last_sync_at > feed.last_success_at
    assert imported(listing) == [stay(10, 3)]


def test_a_slow_feed_times_out_and_a_huge_one_is_cut_off(feed_server, listing, airbnb, settings):
    from calendars.tests.feed_server import endless, trickle

    settings.ICAL_FETCH_TIMEOUT_SECONDS = 1
    serve(feed_server, b"", stream=trickle)
    assert "in time" in ical_feed_sync(feed_id=airbnb.pk).error

    settings.ICAL_FETCH_TIMEOUT_SECONDS = 10
    serve(feed_server, b"", stream=endless)
    assert "larger than 1048576 bytes" in ical_feed_sync(feed_id=airbnb.pk).error


def test_thousands_of_events_are_refused_whole(feed_server, listing, airbnb, settings):
    settings.ICAL_FEED_MAX_EVENTS = 50
    serve(feed_server, feed(*(event(f"e{index}", *stay(index + 1, 1)) for index in range(51))))

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert "51 events, more than the 50 allowed" in outcome.error
    assert imported(listing) == []


def test_recurring_events_are_refused_and_reported(feed_server, listing, airbnb):
    serve(
        feed_server,
        feed(
            event("every-day", *stay(1, 1), rrule={"freq": "daily"}),
            event("once", *stay(5, 2)),
        ),
    )

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert imported(listing) == [stay(5, 2)]
    assert outcome.feed.skipped_count == 1
    assert outcome.feed.skipped[0]["uid"] == "every-day"


def test_not_modified_keeps_the_events_and_sends_the_validators_back(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3)]), headers={"ETag": '"v1"'})
    ical_feed_sync(feed_id=airbnb.pk)
    serve(feed_server, b"", status=304)

    outcome = ical_feed_sync(feed_id=airbnb.pk)

    assert feed_server.requests[-1]["If-None-Match"] == '"v1"'
    assert (outcome.held, outcome.error) == (1, "")
    assert imported(listing) == [stay(10, 3)]


def test_past_events_hold_nothing(feed_server, listing, airbnb):
    serve(feed_server, feed(event("past", *stay(-10, 3)), event("now", *stay(-1, 3))))

    ical_feed_sync(feed_id=airbnb.pk)

    assert imported(listing) == [stay(-1, 3)]


def test_removing_a_feed_releases_its_nights_only(feed_server, listing, airbnb):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    ical_feed_sync(feed_id=airbnb.pk)
    block = hold_for(listing, day(20), day(22), kind=Hold.Kind.BLOCK)

    ical_feed_delete(feed=airbnb)

    assert list(Hold.objects.filter(property=listing)) == [block]
    assert not IcalFeed.objects.exists()
    assert not IcalFeedEvent.objects.exists()


def test_the_command_syncs_every_feed_and_reports_each(feed_server, listing, airbnb, capsys):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    other = PropertyFactory.create()
    broken = ical_feed_create(listing=other, url=feed_server.serve("/broken.ics", b"nope"))

    call_command("sync_ical_feeds")

    out = capsys.readouterr().out
    assert f"feed {airbnb.pk} (property {listing.pk}): 1 events held, 0 conflicts" in out
    assert f"feed {broken.pk} (property {other.pk}): The feed is not an iCalendar" in out
    assert "Synced 1 feeds (0 conflicts); 1 could not be read." in out
    assert imported(listing) == [stay(10, 3)]


def test_a_deleted_listings_feeds_are_not_synced(feed_server, listing, airbnb, capsys):
    Property.objects.filter(pk=listing.pk).update(deleted_at=timezone.now())

    call_command("sync_ical_feeds")

    assert feed_server.requests == []


def test_a_feed_that_trips_a_bug_does_not_stop_the_feeds_after_it(
    feed_server, listing, airbnb, monkeypatch
):
    serve(feed_server, airbnb_feed([stay(10, 3)]))
    other = PropertyFactory.create()
    later = ical_feed_create(listing=other, url=feed_server.serve("/later.ics", airbnb_feed([])))
    real_fetch = feed_fetch

    def fetch(url, **kwargs):
        if url.endswith("/airbnb.ics"):
            raise RuntimeError("a bug of ours")
        return real_fetch(url, **kwargs)

    monkeypatch.setattr("calendars.feeds.feed_fetch", fetch)

    outcomes = list(ical_feeds_sync_all())

    assert [outcome.feed.pk for outcome in outcomes] == [later.pk]
    airbnb.refresh_from_db()
    assert airbnb.last_error == SYNC_FAILED_MESSAGE
    assert imported(listing) == []


def test_a_feed_removed_while_its_fetch_failed_is_skipped(
    feed_server, listing, airbnb, monkeypatch
):
    def fetch(url, **kwargs):
        IcalFeed.objects.filter(url=url).delete()  # its host removes it meanwhile
        raise FetchError("The feed did not answer in time.")

    monkeypatch.setattr("calendars.feeds.feed_fetch", fetch)

    # One feed's sync says why it stopped: the feed is gone, not a failure to report (the
    # sync of all skips exactly that; anything else it would log and count as failed).
    with pytest.raises(NotFound):
        ical_feed_sync(feed_id=airbnb.pk)
    url = feed_server.serve("/vrbo.ics", airbnb_feed([]))
    ical_feed_create(listing=listing, url=url, name="Vrbo")
    assert list(ical_feeds_sync_all()) == []
    assert not IcalFeed.objects.exists()
