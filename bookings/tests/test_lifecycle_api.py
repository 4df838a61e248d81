"""The lifecycle through the API: wiring, permissions, error shapes, the host list."""

from datetime import timedelta

import pytest

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from conftest import client_for
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

BOOKINGS = "/api/bookings/"
HOST_BOOKINGS = "/api/host/bookings/"


def days(n: int) -> str:
    return str(utc_today() + timedelta(days=n))


def ask(client, listing, start=10, end=12, **headers):
    body = {"property_id": listing.pk, "check_in": days(start), "check_out": days(end)}
    return client.post(BOOKINGS, body, **headers)


def test_a_request_is_accepted_through_the_api_and_shows_its_history():
    listing = PropertyFactory.create(instant_book=False)
    guest = UserFactory.create()
    created = ask(client_for(guest), listing)

    accepted = client_for(listing.owner).post(
        f"{BOOKINGS}{created.json()['id']}/accept/", {"message": "See you!"}
    )

    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert created.json()["expires_at"] is not None
    assert accepted.status_code == 200
    body = accepted.json()
    assert (body["status"], body["expires_at"], body["guest"]) == (
        "confirmed",
        None,
        guest.username,
    )
    assert [(h["from_status"], h["to_status"], h["by"], h["reason"]) for h in body["history"]] == [
        ("", "pending", guest.username, ""),
        ("pending", "confirmed", listing.owner.username, "See you!"),
    ]
    assert "email" not in str(body)


def test_decline_and_host_cancel_through_the_api():
    listing = PropertyFactory.create(instant_book=False)
    host = client_for(listing.owner)
    declined_id = ask(client_for(UserFactory.create()), listing, 10, 12).json()["id"]
    stay = BookingFactory.create(property=listing, check_in=utc_today() + timedelta(days=20))

    declined = host.post(f"{BOOKINGS}{declined_id}/decline/", {})
    no_reason = host.post(f"{BOOKINGS}{stay.pk}/host-cancel/", {})
    cancelled = host.post(f"{BOOKINGS}{stay.pk}/host-cancel/", {"reason": "Flooded"})
    again = host.post(f"{BOOKINGS}{stay.pk}/host-cancel/", {"reason": "Flooded"})

    assert (declined.status_code, declined.json()["status"]) == (200, "declined")
    assert no_reason.status_code == 400
    assert list(no_reason.json()["errors"]) == ["reason"]
    assert cancelled.status_code == 200
    assert (cancelled.json()["refund_amount"], cancelled.json()["cancellation_fee"]) == (
        float(stay.total_price),
        0,
    )
    assert (again.status_code, again.json()) == (200, cancelled.json())


def test_host_actions_are_404_for_anyone_but_the_host_and_409_in_the_wrong_state():
    stay = BookingFactory.create()
    stranger, guest = client_for(UserFactory.create()), client_for(stay.guest)

    assert stranger.post(f"{BOOKINGS}{stay.pk}/accept/").status_code == 404
    assert guest.post(f"{BOOKINGS}{stay.pk}/decline/").status_code == 404
    refused = client_for(stay.property.owner).post(f"{BOOKINGS}{stay.pk}/accept/")
    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "This booking is confirmed, not a pending request.",
        "code": "booking_transition_refused",
    }


def test_the_host_list_shows_every_listing_s_bookings_filtered_without_emails(
    django_assert_num_queries,
):
    host = UserFactory.create()
    first, second = PropertyFactory.create(owner=host), PropertyFactory.create(owner=host)
    upcoming = BookingFactory.create(property=first, check_in=utc_today() + timedelta(days=5))
    past = BookingFactory.create(
        property=second,
        check_in=utc_today() - timedelta(days=9),
        check_out=utc_today() - timedelta(days=6),
    )
    pending = BookingFactory.create(
        property=second, status="pending", check_in=utc_today() + timedelta(days=40)
    )
    BookingFactory.create()  # someone else's listing
    client = client_for(host)

    def ids(**params):
        response = client.get(HOST_BOOKINGS, params)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    # user with its token's revocation, count, page, the page's transitions and revisions
    with django_assert_num_queries(5):
        response = client.get(HOST_BOOKINGS)

    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [pending.pk, past.pk, upcoming.pk]
    assert {row["guest"] for row in rows} == {b.guest.username for b in (pending, past, upcoming)}
    assert all("@" not in str(row) for row in rows)
    assert ids(status="completed") == [past.pk]
    assert ids(status="pending") == [pending.pk]
    assert ids(listing=first.pk) == [upcoming.pk]
    assert ids(upcoming="true") == [pending.pk, upcoming.pk]
    assert ids(start=days(30), end=days(60)) == [pending.pk]
    assert client.get(HOST_BOOKINGS, {"listing": "x"}).status_code == 400


def test_a_retried_request_with_the_same_idempotency_key_is_the_same_request():
    listing = PropertyFactory.create(instant_book=False)
    client = client_for(UserFactory.create())

    first = ask(client, listing, HTTP_IDEMPOTENCY_KEY="req-1")
    retry = ask(client, listing, HTTP_IDEMPOTENCY_KEY="req-1")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.filter(status="pending").count() == 1


def test_guest_cancel_returns_the_refund_and_the_preview_agrees():
    listing = PropertyFactory.create(cancellation_policy="strict")
    booking = BookingFactory.create(property=listing, check_in=utc_today() + timedelta(days=10))
    guest = client_for(booking.guest)

    preview = guest.get(f"{BOOKINGS}{booking.pk}/cancellation/").json()
    cancelled = guest.delete(f"{BOOKINGS}{booking.pk}/")

    half = float(booking.total_price) / 2  # strict, 7 to 14 days ahead
    assert (preview["refund_amount"], preview["refund_share"]) == (half, 0.5)
    assert cancelled.status_code == 200
    assert (cancelled.json()["refund_amount"], cancelled.json()["cancellation_fee"]) == (half, half)
    assert cancelled.json()["cancelled_by"] == "guest"


def test_patch_changes_the_dates_and_lists_the_revision():
    booking = BookingFactory.create(check_in=utc_today() + timedelta(days=10))
    guest = client_for(booking.guest)

    changed = guest.patch(f"{BOOKINGS}{booking.pk}/", {"check_out": days(15)}, format="json")
    refused = guest.patch(f"{BOOKINGS}{booking.pk}/", {"guests": 99}, format="json")
    empty = guest.patch(f"{BOOKINGS}{booking.pk}/", {}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["check_out"], changed.json()["nights"]) == (days(15), 5)
    assert [r["old_check_out"] for r in changed.json()["revisions"]] == [str(booking.check_out)]
    assert refused.status_code == 400  # beyond any listing's capacity: the request's shape
    assert empty.status_code == 400


def test_patch_onto_taken_nights_is_409_naming_them():
    booking = BookingFactory.create(check_in=utc_today() + timedelta(days=10))
    BookingFactory.create(
        property=booking.property,
        check_in=utc_today() + timedelta(days=14),
        check_out=utc_today() + timedelta(days=16),
    )

    response = client_for(booking.guest).patch(
        f"{BOOKINGS}{booking.pk}/", {"check_out": days(15)}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "booking_conflict"
    assert days(14) in response.json()["detail"]
    booking.refresh_from_db()
    assert booking.revisions.count() == 0
