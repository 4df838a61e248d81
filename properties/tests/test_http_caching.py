"""HTTP caching of the public property list and detail: anonymous answers are public for a short
while and carry an ETag; If-None-Match is a 304 until a write changes what they show, with the
response cache on or off. Everything personal is no-store (core/tests/test_cache_control.py)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils.cache import get_max_age, has_vary_header

from accounts.tests.factories import UserFactory
from conftest import client_for
from core.stays import utc_today
from properties.apis import PUBLIC_MAX_AGE_SECONDS
from properties.tests.factories import PropertyFactory, admin_change_form

pytestmark = pytest.mark.django_db

LIST = "/api/properties/"


@pytest.fixture(autouse=True, params=[0, 60], ids=["no-response-cache", "response-cache"])
def _response_cache(request, settings):
    settings.RESPONSE_CACHE_SECONDS = request.param


def detail(listing) -> str:
    return f"/api/properties/{listing.pk}/"


def test_anonymous_list_and_detail_are_public_briefly_with_an_etag(api_client):
    listing = PropertyFactory.create()

    for path in (LIST, detail(listing)):
        response = api_client.get(path)

        assert response.status_code == 200
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert cache_control == {"public", f"max-age={PUBLIC_MAX_AGE_SECONDS}"}
        assert get_max_age(response) == PUBLIC_MAX_AGE_SECONDS
        assert has_vary_header(response, "Authorization")
        assert response["ETag"].startswith('"')


def test_a_matching_if_none_match_is_a_304_without_a_body(api_client):
    listing = PropertyFactory.create()

    for path in (LIST, detail(listing), f"{LIST}?location=nairobi&page_size=5"):
        etag = api_client.get(path)["ETag"]

        response = api_client.get(path, HTTP_IF_NONE_MATCH=etag)

        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert "public" in response["Cache-Control"]


def test_a_signed_in_read_is_not_stored_and_has_no_etag(user):
    listing = PropertyFactory.create()

    for path in (LIST, detail(listing)):
        response = client_for(user).get(path)

        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert has_vary_header(response, "Authorization")
        assert not response.has_header("ETag")


def test_errors_are_not_stored(api_client):
    response = api_client.get(f"{LIST}999999/")

    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")


def rename_owner(listing):
    return client_for(listing.owner).patch("/api/profile/", {"username": "renamed_host"})


def edit(listing):
    return client_for(listing.owner).patch(detail(listing), {"price_per_night": 99})


def unlist(listing):
    return client_for(listing.owner).patch(detail(listing), {"availability": False})


def delete(listing):
    return client_for(listing.owner).delete(detail(listing))


def create_another(listing):
    return client_for(UserFactory.create()).post(
        LIST, {"title": "Newer", "price_per_night": 80, "location": "Lagos, Nigeria"}
    )


def admin_edit(listing):
    staff = UserFactory.create(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    return client.post(
        f"/admin/properties/property/{listing.pk}/change/",
        admin_change_form(listing, title="Edited by staff", price_per_night="50.00"),
    )


@pytest.mark.parametrize(
    "write",
    [edit, unlist, delete, create_another, rename_owner, admin_edit],
    ids=lambda w: w.__name__,
)
def test_every_write_changes_the_etag_of_what_it_changes(
    api_client, write, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create()
    paths = [LIST] if write in (delete, create_another) else [LIST, detail(listing)]
    for path in paths:  # a response is stored on its second miss: this read and the next
        api_client.get(path)
    etags = {path: api_client.get(path)["ETag"] for path in paths}

    with django_capture_on_commit_callbacks(execute=True):
        assert write(listing).status_code in (200, 201, 204, 302)
    responses = {path: api_client.get(path, HTTP_IF_NONE_MATCH=etags[path]) for path in paths}

    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(paths, 200)
    assert all(r["ETag"] != etags[path] for path, r in responses.items())


def test_a_booking_changes_the_etag_of_a_search_for_its_nights(
    api_client, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create()
    check_in = utc_today() + timedelta(days=10)
    search = f"{LIST}?check_in={check_in}&check_out={check_in + timedelta(days=2)}"
    for path in (search, LIST):  # a response is stored on its second miss: this read and the next
        api_client.get(path)
    etag = api_client.get(search)["ETag"]
    unchanged = api_client.get(LIST)["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        booked = client_for(UserFactory.create()).post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(check_in),
                "check_out": str(check_in + timedelta(days=1)),
            },
        )
    after = api_client.get(search, HTTP_IF_NONE_MATCH=etag)

    assert booked.status_code == 201
    assert after.status_code == 200
    assert after.json()["results"] == []
    # The undated list shows the same thing as before: its ETag still matches.
    assert api_client.get(LIST, HTTP_IF_NONE_MATCH=unchanged).status_code == 304
