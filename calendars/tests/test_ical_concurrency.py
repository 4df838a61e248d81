"""Syncs racing bookings and blocks on the same nights: one holder per night, and every import
that lost is a conflict on its feed, on SQLite (write lock) and PostgreSQL (row lock plus
exclusion constraint)."""

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from accounts.tests.factories import UserFactory
from calendars.feeds import ical_feed_create, ical_feed_sync
from calendars.models import Hold, IcalFeedEvent
from calendars.tests.samples import event, feed
from conftest import client_for, run_simultaneously
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)

FEEDS = 4


def day(n: int):
    return utc_today() + timedelta(days=n)


def _sync(feed_id: int) -> str:
    outcome = ical_feed_sync(feed_id=feed_id)
    return "conflict" if outcome.conflicts else "held"


def _post(client, path: str, body: dict) -> str:
    return str(client.post(path, body).status_code)


def test_syncs_bookings_and_blocks_racing_leave_one_holder(feed_server):
    listing = PropertyFactory.create()
    host = client_for(listing.owner)
    # Every feed, booking and block shares the night of day 12 with every other.
    feeds = [
        ical_feed_create(
            listing=listing,
            url=feed_server.serve(f"/{index}.ics", feed(event(f"e{index}", day(11), day(13)))),
        )
        for index in range(FEEDS)
    ]
    calls: list[Callable[[], str]] = [partial(_sync, item.pk) for item in feeds]
    for index in range(FEEDS):
        guest = client_for(UserFactory.create())
        body = {
            "property_id": listing.pk,
            "check_in": str(day(10 + index % 3)),
            "check_out": str(day(13)),
        }
        calls.append(partial(_post, guest, "/api/bookings/", body))
        block = {"start": str(day(12)), "end": str(day(14 + index % 2))}
        calls.append(partial(_post, host, f"/api/properties/{listing.pk}/blocks/", block))

    outcomes = run_simultaneously(calls)

    holds = list(Hold.objects.filter(property=listing))
    assert len(holds) == 1
    winners = [outcome for outcome in outcomes if outcome in ("held", "201")]
    assert len(winners) == 1
    assert outcomes.count("conflict") == FEEDS - (1 if winners == ["held"] else 0)
    assert outcomes.count("409") == 2 * FEEDS - (0 if winners == ["held"] else 1)
    assert IcalFeedEvent.objects.count() == FEEDS
    assert IcalFeedEvent.objects.filter(hold__isnull=False).count() == (
        1 if holds[0].kind == Hold.Kind.IMPORT else 0
    )
