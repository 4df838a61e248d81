"""Storms of simultaneous requests, each thread on its own database connection, through the real
API. They prove the no-overlap rule under races on SQLite (write lock) and PostgreSQL (row lock
plus exclusion constraint)."""

from datetime import timedelta
from itertools import pairwise

import pytest

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from conftest import client_for, run_simultaneously
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)

STORM = 24


def days(n: int) -> str:
    return str(utc_today() + timedelta(days=n))


def fire(requests: list[tuple]) -> list[int]:
    """Send (client, method, path, body) requests at once, one thread each; return statuses."""
    return run_simultaneously(
        [
            lambda request=request: getattr(request[0], request[1])(*request[2:]).status_code
            for request in requests
        ]
    )


def test_storm_of_overlapping_requests_yields_exactly_one_booking():
    listing = PropertyFactory.create()
    clients = [client_for(UserFactory.create()) for _ in range(STORM)]
    # Every request overlaps every other: all share the night of day 12.
    requests = [
        (
            client,
            "post",
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": days(10 + i % 3), "check_out": days(13)},
        )
        for i, client in enumerate(clients)
    ]

    statuses = fire(requests)

    assert sorted(statuses) == [201] + [409] * (STORM - 1)
    assert Booking.objects.filter(property=listing, status="confirmed").count() == 1


def test_same_guest_storm_yields_one_booking():
    listing = PropertyFactory.create()
    client = client_for(UserFactory.create())
    body = {"property_id": listing.pk, "check_in": days(5), "check_out": days(8)}

    statuses = fire([(client, "post", "/api/bookings/", body) for _ in range(STORM)])

    assert sorted(statuses) == [201] + [409] * (STORM - 1)
    assert Booking.objects.count() == 1


def test_mixed_storm_non_overlapping_requests_all_succeed():
    listing = PropertyFactory.create()
    # 12 distinct back-to-back two-night stays, each asked for twice: one of each pair wins.
    requests = [
        (
            client_for(UserFactory.create()),
            "post",
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": days(2 * n + 1), "check_out": days(2 * n + 3)},
        )
        for n in range(12)
        for _ in range(2)
    ]

    statuses = fire(requests)

    assert sorted(statuses) == [201] * 12 + [409] * 12
    stays = list(
        Booking.objects.filter(property=listing)
        .order_by("check_in")
        .values_list("check_in", "check_out")
    )
    assert len(stays) == 12
    assert all(earlier[1] <= later[0] for earlier, later in pairwise(stays))


def test_cancel_then_rebook_under_contention():
    listing = PropertyFactory.create()
    first_guest = UserFactory.create()
    first = client_for(first_guest)
    body = {"property_id": listing.pk, "check_in": days(20), "check_out": days(23)}
    booking_id = first.post("/api/bookings/", body).json()["id"]
    rivals = [client_for(UserFactory.create()) for _ in range(STORM)]

    assert rivals[0].post("/api/bookings/", body).status_code == 409
    assert first.delete(f"/api/bookings/{booking_id}/").status_code == 200
    statuses = fire([(client, "post", "/api/bookings/", body) for client in rivals])

    assert sorted(statuses) == [201] + [409] * (STORM - 1)
    assert Booking.objects.filter(property=listing, status="confirmed").count() == 1
    assert Booking.objects.get(pk=booking_id).status == "cancelled"


def test_delete_racing_bookings_never_leaves_an_upcoming_booking_on_a_deleted_property():
    listing = PropertyFactory.create()
    host = client_for(listing.owner)
    requests = [(host, "delete", f"/api/properties/{listing.pk}/", None)] + [
        (
            client_for(UserFactory.create()),
            "post",
            "/api/bookings/",
            {"property_id": listing.pk, "check_in": days(3 + 2 * n), "check_out": days(5 + 2 * n)},
        )
        for n in range(8)
    ]

    statuses = fire(requests)

    listing.refresh_from_db()
    booked = Booking.objects.filter(property=listing, status="confirmed").count()
    # Either the delete went first and every booking found no property, or a booking went
    # first, the delete was refused, and every (non-overlapping) booking went through.
    if listing.deleted_at is not None:
        assert (statuses[0], set(statuses[1:]), booked) == (204, {400}, 0)
    else:
        assert (statuses[0], set(statuses[1:]), booked) == (409, {201}, 8)


# --- one pending request, competing decisions ------------------------------------------------


def _request(listing) -> Booking:
    from bookings.services import booking_create

    return booking_create(
        guest=UserFactory.create(),
        property_id=listing.pk,
        check_in=utc_today() + timedelta(days=10),
        check_out=utc_today() + timedelta(days=12),
    )


def test_accept_decline_cancel_and_expiry_of_one_request_end_in_exactly_one_outcome():
    from bookings.services import booking_request_expire

    listing = PropertyFactory.create(instant_book=False)
    pending = _request(listing)
    host, guest = client_for(listing.owner), client_for(pending.guest)
    url = f"/api/bookings/{pending.pk}/"
    # The expiry job's clock is past the deadline; the others act before it.
    assert pending.expires_at is not None
    far_future = pending.expires_at + timedelta(seconds=1)

    results = run_simultaneously(
        [
            lambda: host.post(f"{url}accept/").status_code,
            lambda: host.post(f"{url}decline/", {"message": "Sorry"}).status_code,
            lambda: guest.delete(url).status_code,
            lambda: booking_request_expire(booking_id=pending.pk, now=far_future) is not None,
        ]
    )

    accepted, declined, cancelled, expired = results
    pending.refresh_from_db()
    steps = list(pending.transitions.values_list("from_status", "to_status"))
    # The request is decided once: one transition out of pending.
    decided = [new for old, new in steps if old == "pending"]
    assert len(decided) == 1
    # The guest's DELETE decided it only if it withdrew the request while still pending: once
    # accepted, the same call legally cancels the confirmed stay, a later step of its own.
    withdrew = cancelled == 200 and decided == ["cancelled"]
    outcomes = [accepted == 200, declined == 200, withdrew, expired]
    assert sum(outcomes) == 1
    assert all(status in (200, 409) for status in (accepted, declined, cancelled))
    winner = ["confirmed", "declined", "cancelled", "expired"][outcomes.index(True)]
    assert decided == [winner]
    after = [new for _, new in steps]
    if winner == "confirmed" and cancelled == 200:
        assert pending.status == "cancelled"
        assert after == ["pending", "confirmed", "cancelled"]
    else:
        assert pending.status == winner
        assert after == ["pending", winner]


def test_retried_accepts_all_answer_the_confirmed_booking_and_record_it_once():
    listing = PropertyFactory.create(instant_book=False)
    pending = _request(listing)
    host = client_for(listing.owner)

    statuses = fire([(host, "post", f"/api/bookings/{pending.pk}/accept/", None)] * 8)

    assert statuses == [200] * 8
    assert pending.transitions.filter(to_status="confirmed").count() == 1


def test_a_request_and_an_instant_booking_racing_for_the_same_nights_yield_one():
    requested = PropertyFactory.create(instant_book=False)
    body = {"property_id": requested.pk, "check_in": days(4), "check_out": days(6)}

    statuses = fire(
        [(client_for(UserFactory.create()), "post", "/api/bookings/", body) for _ in range(12)]
    )

    assert sorted(statuses) == [201] + [409] * 11
    assert Booking.objects.get(property=requested).status == "pending"
