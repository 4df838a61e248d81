"""The public property list and detail, served from the shared cache (RESPONSE_CACHE_SECONDS):
every write that changes what they show is visible to the very next read, the writer's own
included. Writes run inside django_capture_on_commit_callbacks(execute=True): the test's
transaction never commits, and the cache is forgotten on commit."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import caches
from django.core.management import call_command
from django.http import Http404

from accounts.tests.factories import UserFactory
from conftest import client_for
from core.cache_generations import (
    LISTINGS,
    RecentMisses,
    cache_generations_forget,
    recent_response_misses,
    response_cache_get_or_compute,
)
from core.stays import utc_today
from properties.models import Property
from properties.selectors import property_listed_count
from properties.services import property_create
from properties.tests.factories import PropertyFactory, admin_change_form
from rates.tests.factories import RatePlanFactory

pytestmark = pytest.mark.django_db

LIST = "/api/properties/"


@pytest.fixture(autouse=True)
def _response_cache_on(settings):
    settings.RESPONSE_CACHE_SECONDS = 60


def detail(listing) -> str:
    return f"/api/properties/{listing.pk}/"


def warm(client, *paths) -> None:
    # Twice: a response is stored on its second miss (core.cache_generations.RecentMisses).
    for path in paths:
        for _ in range(2):
            assert client.get(path).status_code == 200


def stay_query(days_ahead: int = 10, nights: int = 3) -> str:
    check_in = utc_today() + timedelta(days=days_ahead)
    return f"check_in={check_in}&check_out={check_in + timedelta(days=nights)}"


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


# --- hits -------------------------------------------------------------------------------------


def test_a_repeated_anonymous_read_runs_no_query(api_client, django_assert_num_queries):
    listing = PropertyFactory.create(title="Cached Loft")
    warm(api_client, LIST, detail(listing))

    with django_assert_num_queries(0):
        listed = api_client.get(LIST)
        shown = api_client.get(detail(listing))

    assert listed.status_code == 200
    assert shown.status_code == 200
    assert titles(listed) == ["Cached Loft"]
    assert listed.json()["count"] == 1
    assert shown.json()["title"] == "Cached Loft"


def test_a_response_is_stored_on_its_second_miss_within_the_timeout(
    api_client, django_assert_num_queries, settings
):
    settings.RESPONSE_CACHE_SECONDS = 60
    listing = PropertyFactory.create(title="Asked Once")
    other = PropertyFactory.create(title="Asked Twice")
    moment = datetime(2026, 6, 1, 12, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        # Asked once: computed and not stored, so asking again computes again.
        api_client.get(detail(listing))
        with django_assert_num_queries(1):
            assert api_client.get(detail(listing)).json()["title"] == "Asked Once"
        # That second miss stored it.
        with django_assert_num_queries(0):
            assert api_client.get(detail(listing)).json()["title"] == "Asked Once"
        api_client.get(detail(other))
    # A miss remembered longer ago than the timeout does not count.
    with time_machine.travel(moment + timedelta(seconds=61), tick=False):
        with django_assert_num_queries(1):
            api_client.get(detail(other))
        with django_assert_num_queries(1):
            api_client.get(detail(other))
        with django_assert_num_queries(0):
            api_client.get(detail(other))


def test_an_outdated_response_is_stored_again_at_its_first_miss(
    api_client, django_assert_num_queries
):
    listing = PropertyFactory.create(title="Before")
    warm(api_client, detail(listing))
    cache_generations_forget(LISTINGS)
    recent_response_misses.clear()  # as in a process that never missed it

    with django_assert_num_queries(1):
        api_client.get(detail(listing))
    with django_assert_num_queries(0):
        api_client.get(detail(listing))


def test_the_misses_remembered_are_bounded():
    misses = RecentMisses(size=2)
    assert not misses.missed_again("a", within=60)
    assert not misses.missed_again("b", within=60)
    assert not misses.missed_again("c", within=60)  # forgets "a", the oldest
    assert not misses.missed_again("a", within=60)
    assert misses.missed_again("c", within=60)


def test_a_signed_in_read_only_authenticates(user, django_assert_num_queries):
    listing = PropertyFactory.create()
    client = client_for(user)
    warm(client, LIST, detail(listing))

    # The token is still checked (user and logout denylist in one query), the rest is cached.
    with django_assert_num_queries(1):
        response = client.get(LIST)

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_cached_read_still_refuses_a_bad_token(api_client):
    listing = PropertyFactory.create()
    warm(api_client, detail(listing))
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(detail(listing))

    assert response.status_code == 401


def test_each_host_gets_its_own_links(api_client):
    PropertyFactory.create_batch(2)
    warm(api_client, f"{LIST}?page_size=1")

    here = api_client.get(f"{LIST}?page_size=1", HTTP_HOST="localhost")
    there = api_client.get(f"{LIST}?page_size=1")

    assert here.json()["next"] == "http://localhost/api/properties/?page=2&page_size=1"
    assert there.json()["next"] == "http://testserver/api/properties/?page=2&page_size=1"


# --- every write is seen by the next read ------------------------------------------------------


def test_a_new_property_is_listed_at_once(
    api_client, auth_client, django_capture_on_commit_callbacks
):
    PropertyFactory.create(title="Old")
    warm(api_client, LIST)

    with django_capture_on_commit_callbacks(execute=True):
        created = auth_client.post(
            LIST, {"title": "New", "price_per_night": 80, "location": "Lagos, Nigeria"}
        )
    response = api_client.get(LIST)

    assert created.status_code == 201
    assert titles(response) == ["New", "Old"]
    assert response.json()["count"] == 2


def test_an_edit_shows_in_the_list_and_detail_at_once(
    api_client, user, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create(owner=user, title="Before", price_per_night=50)
    warm(api_client, LIST, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        edited = client_for(user).patch(
            detail(listing), {"title": "After", "price_per_night": 65.5}
        )
    shown = api_client.get(detail(listing)).json()

    assert edited.status_code == 200
    assert titles(api_client.get(LIST)) == ["After"]
    assert (shown["title"], shown["price_per_night"]) == ("After", 65.5)


def test_a_deleted_property_disappears_at_once(
    api_client, user, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create(owner=user)
    warm(api_client, LIST, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        deleted = client_for(user).delete(detail(listing))

    assert deleted.status_code == 204
    assert api_client.get(detail(listing)).status_code == 404
    assert api_client.get(LIST).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_a_renamed_owner_shows_at_once(api_client, user, django_capture_on_commit_callbacks):
    listing = PropertyFactory.create(owner=user)
    warm(api_client, LIST, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        renamed = client_for(user).patch("/api/profile/", {"username": "renamed_host"})

    assert renamed.status_code == 200
    assert api_client.get(LIST).json()["results"][0]["owner"] == "renamed_host"
    assert api_client.get(detail(listing)).json()["owner"] == "renamed_host"


def test_an_admin_edit_shows_at_once(admin_client, api_client, django_capture_on_commit_callbacks):
    listing = PropertyFactory.create(title="Before")
    warm(api_client, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/properties/property/{listing.pk}/change/",
            admin_change_form(listing, title="Edited by staff", price_per_night="50.00"),
        )

    assert response.status_code == 302
    assert api_client.get(detail(listing)).json()["title"] == "Edited by staff"


def test_a_booking_and_its_cancellation_show_in_the_search_at_once(
    api_client, user, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create(title="Sought")
    search = f"{LIST}?{stay_query()}"
    warm(api_client, search)
    guest = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        booked = guest.post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(utc_today() + timedelta(days=11)),
                "check_out": str(utc_today() + timedelta(days=12)),
            },
        )
    after_booking = titles(api_client.get(search))
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = guest.delete(f"/api/bookings/{booked.json()['id']}/")
    after_cancelling = titles(api_client.get(search))

    assert (booked.status_code, cancelled.status_code) == (201, 200)
    assert after_booking == []
    assert after_cancelling == ["Sought"]


def test_a_booking_leaves_reads_without_dates_cached(
    api_client, user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create()
    warm(api_client, LIST, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        booked = client_for(user).post(
            "/api/bookings/",
            {
                "property_id": listing.pk,
                "check_in": str(utc_today() + timedelta(days=3)),
                "check_out": str(utc_today() + timedelta(days=5)),
            },
        )
    with django_assert_num_queries(0):
        listed = api_client.get(LIST)
        shown = api_client.get(detail(listing))

    assert booked.status_code == 201
    assert (listed.status_code, shown.status_code) == (200, 200)


def test_a_search_cached_yesterday_is_not_served_today(api_client):
    listing = PropertyFactory.create(time_zone="UTC")
    with time_machine.travel(datetime(2031, 3, 1, 23, 59, 50, tzinfo=UTC), tick=False):
        search = f"{LIST}?check_in=2031-03-01&check_out=2031-03-03"
        warm(api_client, search)
        before = api_client.get(search).json()
    with time_machine.travel(datetime(2031, 3, 2, 0, 0, 10, tzinfo=UTC), tick=False):
        response = api_client.get(search)

    # March 1 is still today west of UTC, so the search stands; at this listing it has gone.
    assert [row["id"] for row in before["results"]] == [listing.pk]
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_a_search_cached_before_an_advance_notice_deadline_is_not_served_after_it(api_client):
    # The deadline falls at the listing's check-in time (14:50 here), inside a quarter hour.
    listing = PropertyFactory.create(time_zone="UTC", check_in_from=time(14, 50))
    RatePlanFactory.create(property=listing, advance_notice_days=1)
    search = f"{LIST}?check_in=2031-03-02&check_out=2031-03-04"
    with time_machine.travel(datetime(2031, 3, 1, 14, 49, 50, tzinfo=UTC), tick=False):
        warm(api_client, search)
        before = api_client.get(search).json()
    with time_machine.travel(datetime(2031, 3, 1, 14, 50, 10, tzinfo=UTC), tick=False):
        after = api_client.get(search).json()

    assert [row["id"] for row in before["results"]] == [listing.pk]
    assert after["results"] == []


# --- the mechanism ----------------------------------------------------------------------------


def compute_counting(values: list):
    calls = []

    def compute():
        calls.append(1)
        return values[len(calls) - 1]

    return compute, calls


@pytest.mark.parametrize("generation_started", [True, False])
def test_a_read_that_overlaps_a_write_is_filed_where_nobody_looks(generation_started, monkeypatch):
    key = "http://testserver/api/properties/"
    # As for a response asked for before: the stale answer below is stored, not skipped.
    admitted: list[str] = []

    def missed_before(key: str, *, within: float) -> bool:
        admitted.append(key)
        return True

    monkeypatch.setattr(recent_response_misses, "missed_again", missed_before)
    if generation_started:  # else the read below starts it, taking a new token first
        cache_generations_forget(LISTINGS)

    def read_then_concurrent_write():
        value = "stale"  # what the database said before the write committed...
        cache_generations_forget(LISTINGS)  # ...then the write commits
        return value

    stored = response_cache_get_or_compute(
        generations=(LISTINGS,), key=key, compute=read_then_concurrent_write
    )
    after = response_cache_get_or_compute(generations=(LISTINGS,), key=key, compute=lambda: "new")

    assert (stored, after) == ("stale", "new")
    # The stale answer was stored (under the tokens nobody reads again): the second read found it
    # outdated, computed anew and stored at once, without asking the admission.
    assert len(admitted) == 1


def test_an_evicted_generation_never_brings_old_entries_back():
    key = "k"
    compute, calls = compute_counting(["v1", "v2", "v3", "v4"])
    for _ in range(3):
        response_cache_get_or_compute(generations=(LISTINGS,), key=key, compute=compute)
    caches["shared"].delete("generation:listings")  # evicted, or Redis restarted

    first_after = response_cache_get_or_compute(generations=(LISTINGS,), key=key, compute=compute)
    second_after = response_cache_get_or_compute(generations=(LISTINGS,), key=key, compute=compute)

    # Before: v1 computed, v2 computed and stored (its second miss), then a hit. After: a new
    # token, v3 computed and stored at once (an outdated copy was found), then a hit.
    assert (len(calls), first_after, second_after) == (3, "v3", "v3")


def test_errors_are_not_cached():
    def missing():
        raise Http404

    for _ in range(3):
        with pytest.raises(Http404):
            response_cache_get_or_compute(generations=(LISTINGS,), key="k", compute=missing)
    found = response_cache_get_or_compute(generations=(LISTINGS,), key="k", compute=lambda: "v")

    assert found == "v"


def test_without_the_setting_nothing_is_cached(settings):
    settings.RESPONSE_CACHE_SECONDS = 0
    compute, calls = compute_counting(["a", "b", "c"])

    answers = [
        response_cache_get_or_compute(generations=(LISTINGS,), key="k", compute=compute)
        for _ in range(3)
    ]

    assert (answers, len(calls)) == (["a", "b", "c"], 3)


def test_one_entry_whatever_the_order_and_encoding_of_the_parameters(
    api_client, django_assert_num_queries
):
    PropertyFactory.create_batch(3, location="Nairobi, Kenya")
    warm(api_client, f"{LIST}?location=Nairobi%2C+Kenya&page_size=2")

    with django_assert_num_queries(0):
        response = api_client.get(f"{LIST}?page_size=2&location=Nairobi,%20Kenya")

    assert response.json()["count"] == 3


def test_a_renamed_owner_shows_at_once_after_an_admin_edit(
    admin_client, api_client, django_capture_on_commit_callbacks
):
    listing = PropertyFactory.create()
    owner = listing.owner
    warm(api_client, detail(listing))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/accounts/user/{owner.pk}/change/",
            {
                "username": "renamed_by_staff",
                "email": owner.email,
                "first_name": "",
                "last_name": "",
                "is_active": "on",
                "date_joined_0": "2030-01-01",
                "date_joined_1": "00:00:00",
            },
        )

    assert response.status_code == 302
    assert api_client.get(detail(listing)).json()["owner"] == "renamed_by_staff"


def test_demo_data_shows_at_once(api_client, django_capture_on_commit_callbacks):
    warm(api_client, LIST)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", users=3, properties=4, bookings=0, seed=1)

    assert api_client.get(LIST).json()["count"] == 4


def test_a_count_taken_before_a_write_commits_is_never_served_after_it(
    monkeypatch, django_capture_on_commit_callbacks
):
    PropertyFactory.create_batch(2)
    count = Property.objects.count

    def count_then_a_write_commits():
        counted = count()
        with django_capture_on_commit_callbacks(execute=True):
            property_create(
                owner=UserFactory.create(),
                title="Late",
                price_per_night=Decimal(50),
                location="Lagos",
            )
        return counted

    monkeypatch.setattr(Property.objects, "count", count_then_a_write_commits)
    stale = property_listed_count()
    monkeypatch.setattr(Property.objects, "count", count)

    fresh = property_listed_count()
    PropertyFactory.create()  # written around the services: the cached total does not see it

    # A plain "delete the key on commit" would have stored 2 after the delete, and served it.
    assert (stale, fresh, property_listed_count()) == (2, 3, 3)


def test_unknown_query_parameters_are_refused(api_client):
    response = api_client.get(LIST, {"_": "1700000000", "colour": "blue", "page_size": 5})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "_": ["Unknown query parameter."],
        "colour": ["Unknown query parameter."],
    }
