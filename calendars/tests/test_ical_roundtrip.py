"""One listing's export, served by a live server, imported into another listing: the nights
follow, and a guest can neither find nor book them."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from accounts.tests.factories import UserFactory
from calendars.models import Hold
from calendars.services import hold_create
from conftest import client_for
from core.local_time import local_today
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def day(offset: int):
    return local_today("UTC") + timedelta(days=offset)


def hold_for(listing, offset, nights, kind) -> Hold:
    with transaction.atomic():
        Property.objects.select_for_update().get(pk=listing.pk)
        return hold_create(listing=listing, start=day(offset), end=day(offset + nights), kind=kind)


def test_an_export_imported_elsewhere_blocks_those_nights_for_search_and_booking(
    live_server, settings
):
    settings.ICAL_FETCH_ALLOW_PRIVATE = True  # the live server is on 127.0.0.1
    source = PropertyFactory.create()
    target = PropertyFactory.create(owner=source.owner, max_guests=4)
    hold_for(source, 10, 3, Hold.Kind.BOOKING)
    hold_for(source, 20, 2, Hold.Kind.BLOCK)
    hold_for(source, 40, 2, Hold.Kind.IMPORT)  # not exported: no echo between calendars
    host = client_for(source.owner)
    export = urlsplit(host.post(f"/api/properties/{source.pk}/ical/rotate/").json()["url"])
    feeds = f"/api/properties/{target.pk}/ical/feeds/"
    feed_id = host.post(feeds, {"url": f"{live_server.url}{export.path}"}).json()["id"]

    synced = host.post(f"{feeds}{feed_id}/sync/")

    assert synced.status_code == 200, synced.json()
    assert (synced.json()["event_count"], synced.json()["last_error"]) == (2, "")
    assert list(
        Hold.objects.filter(property=target).order_by("start").values_list("kind", "start", "end")
    ) == [
        (Hold.Kind.IMPORT, day(10), day(13)),
        (Hold.Kind.IMPORT, day(20), day(22)),
    ]

    guest = client_for(UserFactory.create())
    booking = {"property_id": target.pk, "check_in": str(day(11)), "check_out": str(day(14))}
    refused = guest.post("/api/bookings/", booking)
    assert refused.status_code == 409, refused.json()
    assert "guest" not in refused.json()["detail"]
    assert not Hold.objects.filter(property=target, kind=Hold.Kind.BOOKING).exists()

    def found(check_in, check_out) -> set[int]:
        query = f"?check_in={day(check_in)}&check_out={day(check_out)}&guests=1"
        return {row["id"] for row in guest.get(f"/api/properties/{query}").json()["results"]}

    assert target.pk not in found(11, 14)
    assert target.pk in found(13, 20)
    booked = guest.post(
        "/api/bookings/",
        {"property_id": target.pk, "check_in": str(day(13)), "check_out": str(day(20))},
    )
    assert booked.status_code == 201, booked.json()
