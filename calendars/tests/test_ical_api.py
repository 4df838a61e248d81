"""The iCal endpoints: the secret export feed, the host's imported feeds, wiring and rights."""

import hashlib
from datetime import timedelta
from typing import Any

import icalendar
import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from calendars.models import Hold, IcalExport, IcalFeed
from calendars.services import hold_create
from calendars.tests.samples import airbnb_feed
from conftest import client_for
from core.local_time import local_today
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def day(offset: int):
    return local_today("UTC") + timedelta(days=offset)


def hold_for(listing, offset, nights, kind, **options) -> Hold:
    with transaction.atomic():
        Property.objects.select_for_update().get(pk=listing.pk)
        return hold_create(
            listing=listing, start=day(offset), end=day(offset + nights), kind=kind, **options
        )


@pytest.fixture
def listing():
    return PropertyFactory.create()


@pytest.fixture
def host(listing):
    return client_for(listing.owner)


def rotate(host, listing) -> str:
    response = host.post(f"/api/properties/{listing.pk}/ical/rotate/")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def events_of(body: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


# --- Export ------------------------------------------------------------------------------------


def test_the_export_lists_bookings_and_blocks_as_all_day_events(host, listing):
    booking = hold_for(listing, 10, 3, Hold.Kind.BOOKING)
    block = hold_for(listing, 20, 2, Hold.Kind.BLOCK, note="Painting the kitchen")
    url = rotate(host, listing)

    response = APIClient().get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    vevents = events_of(response.content)
    assert [(e.DTSTART, e.DTEND, str(e["SUMMARY"]), str(e["UID"])) for e in vevents] == [
        (day(10), day(13), "Reserved", f"hold-{booking.pk}@booking-api"),
        (day(20), day(22), "Blocked", f"hold-{block.pk}@booking-api"),
    ]
    # All-day: VALUE=DATE, no time, no zone; DTEND is the check-out day (exclusive).
    assert f"DTSTART;VALUE=DATE:{day(10):%Y%m%d}\r\n".encode() in response.content
    assert f"DTEND;VALUE=DATE:{day(13):%Y%m%d}\r\n".encode() in response.content
    assert all("DTSTAMP" in e for e in vevents)
    assert b"Painting" not in response.content


def test_the_export_says_nothing_about_guests(host, listing):
    guest = UserFactory.create(first_name="Zelda", last_name="Quartermain")
    hold_for(listing, 10, 3, Hold.Kind.BOOKING, note="Zelda arrives late")

    body = APIClient().get(rotate(host, listing)).content

    for secret in (guest.username, guest.email, "Zelda", "Quartermain"):
        assert secret.encode() not in body
    assert {str(e["SUMMARY"]) for e in events_of(body)} == {"Reserved"}
    assert not any("DESCRIPTION" in e or "ATTENDEE" in e for e in events_of(body))


def test_uids_are_stable_across_edits_and_rotation(host, listing):
    hold_for(listing, 10, 3, Hold.Kind.BOOKING)
    first = events_of(APIClient().get(rotate(host, listing)).content)

    second = events_of(APIClient().get(rotate(host, listing)).content)

    assert [str(e["UID"]) for e in first] == [str(e["UID"]) for e in second]


def test_imported_expired_and_far_holds_are_left_out(host, listing):
    hold_for(listing, 10, 3, Hold.Kind.IMPORT)
    expired = hold_for(listing, 20, 2, Hold.Kind.BOOKING, expires_at=_future())
    Hold.objects.filter(pk=expired.pk).update(expires_at=_past())
    hold_for(listing, -400, 2, Hold.Kind.BLOCK)
    hold_for(listing, 731, 2, Hold.Kind.BLOCK)
    kept = hold_for(listing, 30, 2, Hold.Kind.BOOKING, expires_at=_future())

    vevents = events_of(APIClient().get(rotate(host, listing)).content)

    assert [str(e["UID"]) for e in vevents] == [f"hold-{kept.pk}@booking-api"]


def _past():
    from django.utils import timezone

    return timezone.now() - timedelta(minutes=1)


def _future():
    from django.utils import timezone

    return timezone.now() + timedelta(hours=1)


def test_rotating_ends_the_previous_address_at_once(host, listing):
    old = rotate(host, listing)

    new = rotate(host, listing)

    assert new != old
    assert APIClient().get(old).status_code == 404
    assert APIClient().get(new).status_code == 200


def test_only_the_tokens_digest_is_stored(host, listing):
    url = rotate(host, listing)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")

    export = IcalExport.objects.get(property=listing)

    assert len(token) == 43
    assert export.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in export.token_hash


@pytest.mark.parametrize("token", ["A" * 43, "short", "A" * 44])
def test_a_wrong_token_is_a_json_404(host, listing, token):
    rotate(host, listing)

    response = APIClient().get(f"/api/ical/{token}.ics")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_deleted_listings_feed_is_gone(host, listing):
    url = rotate(host, listing)
    from django.utils import timezone

    Property.objects.filter(pk=listing.pk).update(deleted_at=timezone.now())

    assert APIClient().get(url).status_code == 404


def test_the_export_is_revalidated_with_its_etag(host, listing):
    hold_for(listing, 10, 3, Hold.Kind.BOOKING)
    url = rotate(host, listing)
    first = APIClient().get(url)

    again = APIClient().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    hold_for(listing, 20, 1, Hold.Kind.BLOCK)
    changed = APIClient().get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["Cache-Control"] == "private, no-cache"
    assert first["ETag"]
    assert again.status_code == 304
    assert changed.status_code == 200


def test_only_the_owner_issues_the_address(listing):
    stranger = client_for(UserFactory.create())

    assert APIClient().post(f"/api/properties/{listing.pk}/ical/rotate/").status_code == 401
    assert stranger.post(f"/api/properties/{listing.pk}/ical/rotate/").status_code == 403
    assert stranger.post("/api/properties/999999/ical/rotate/").status_code == 404
    assert not IcalExport.objects.exists()


# --- Import ------------------------------------------------------------------------------------


def test_the_host_adds_lists_syncs_and_removes_a_feed(feed_server, host, listing):
    hold_for(listing, 12, 2, Hold.Kind.BOOKING)
    url = feed_server.serve("/airbnb.ics", airbnb_feed([(day(10), day(13)), (day(20), day(22))]))
    feeds = f"/api/properties/{listing.pk}/ical/feeds/"

    created = host.post(feeds, {"url": url, "name": "Airbnb"})
    feed_id = created.json()["id"]
    synced = host.post(f"{feeds}{feed_id}/sync/")
    listed = host.get(feeds)
    removed = host.delete(f"{feeds}{feed_id}/")

    assert created.status_code == 201
    assert created.json()["last_sync_at"] is None
    assert synced.status_code == 200
    body = synced.json()
    assert (body["event_count"], body["conflict_count"], body["last_error"]) == (1, 1, "")
    assert body["conflicts"] == [{"start": str(day(10)), "end": str(day(13))}]
    assert listed.json() == [body]
    assert removed.status_code == 204
    assert not Hold.objects.filter(kind=Hold.Kind.IMPORT).exists()
    assert Hold.objects.filter(kind=Hold.Kind.BOOKING).count() == 1


def test_the_feed_list_costs_a_fixed_number_of_queries(host, listing, django_assert_num_queries):
    for index in range(3):
        IcalFeed.objects.create(property=listing, url=f"https://example.com/{index}.ics")

    # The user, the listing, the feeds, their conflicts.
    with django_assert_num_queries(4):
        response = host.get(f"/api/properties/{listing.pk}/ical/feeds/")

    assert len(response.json()) == 3


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/a.ics", "only http and https"),
        ("http://127.0.0.1:8000/api/ical/x.ics", "not a public internet address"),
        ("http://169.254.169.254/latest/meta-data/", "not a public internet address"),
        ("http://localhost/a.ics", "localhost"),
        ("https://user:pw@example.com/a.ics", "credentials"),
    ],
)
def test_urls_that_may_not_be_fetched_are_refused(host, listing, url, problem):
    response = host.post(f"/api/properties/{listing.pk}/ical/feeds/", {"url": url})

    assert response.status_code == 400
    assert problem in response.json()["errors"]["url"][0]
    assert not IcalFeed.objects.exists()


def test_webcal_reads_as_https_and_a_url_is_imported_once(host, listing):
    feeds = f"/api/properties/{listing.pk}/ical/feeds/"

    first = host.post(feeds, {"url": "webcal://calendar.example.com/a.ics"})
    again = host.post(feeds, {"url": "https://calendar.example.com/a.ics"})

    assert first.json()["url"] == "https://calendar.example.com/a.ics"
    assert again.status_code == 400
    assert again.json()["errors"]["url"] == ["This property already imports this URL."]


def test_a_listing_imports_a_limited_number_of_feeds(host, listing, settings):
    settings.ICAL_FEEDS_PER_PROPERTY = 2
    feeds = f"/api/properties/{listing.pk}/ical/feeds/"
    for index in range(2):
        assert host.post(feeds, {"url": f"https://example.com/{index}.ics"}).status_code == 201

    response = host.post(feeds, {"url": "https://example.com/3.ics"})

    assert response.status_code == 400
    assert IcalFeed.objects.count() == 2


def test_only_the_owner_sees_and_changes_feeds(listing):
    feed = IcalFeed.objects.create(property=listing, url="https://example.com/secret.ics?s=1")
    stranger = client_for(UserFactory.create())
    feeds = f"/api/properties/{listing.pk}/ical/feeds/"

    assert APIClient().get(feeds).status_code == 401
    assert stranger.get(feeds).status_code == 403
    assert stranger.post(feeds, {"url": "https://example.com/b.ics"}).status_code == 403
    assert stranger.post(f"{feeds}{feed.pk}/sync/").status_code == 403
    assert stranger.delete(f"{feeds}{feed.pk}/").status_code == 403
    assert list(IcalFeed.objects.all()) == [feed]


def test_another_listings_feed_is_a_404(listing, host):
    other = IcalFeed.objects.create(
        property=PropertyFactory.create(owner=listing.owner), url="https://example.com/a.ics"
    )

    response = host.delete(f"/api/properties/{listing.pk}/ical/feeds/{other.pk}/")

    assert response.status_code == 404
    assert IcalFeed.objects.count() == 1


def test_the_export_is_icalendar_whatever_the_client_asks_for(host, listing):
    url = rotate(host, listing)

    response = APIClient().get(f"{url}?format=json", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.content.startswith(b"BEGIN:VCALENDAR")
