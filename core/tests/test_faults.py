"""Faults survived: the database going away (503 quickly, recovery without a restart) and a
worker killed in the middle of writing a booking (nothing half-written, the retry is safe)."""

import json
import os
import signal
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_create
from accounts.tests.factories import UserFactory
from bookings.models import Booking, IdempotencyKey
from conftest import client_for
from core.stays import utc_today
from core.tests.live import TcpProxy, database_url, http, live_gunicorn
from core.views import server_error
from properties.models import Property
from properties.tests.factories import PropertyFactory

UNAVAILABLE = {
    "detail": "The database is unavailable; try again shortly.",
    "code": "service_unavailable",
}
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="network faults between the app and PostgreSQL; SQLite is a file in the process",
)


@contextmanager
def database_unreachable(tmp_path):
    """Point this process's connection at a database that cannot be reached, then restore it."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "missing-dir" / "db.sqlite3")
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_unreachable_database_is_a_503_in_the_error_shape_then_recovers(tmp_path):
    guest = client_for(UserFactory.create())
    anonymous = APIClient()

    with database_unreachable(tmp_path):
        down = [anonymous.get("/api/properties/"), guest.get("/api/bookings/")]
        health = anonymous.get("/api/health/")

    assert [response.status_code for response in down] == [503, 503]
    assert [response.json() for response in down] == [UNAVAILABLE, UNAVAILABLE]
    assert [response["Retry-After"] for response in down] == ["5", "5"]
    assert health.status_code == 503
    assert health["Retry-After"] == "5"
    assert health.json() == {
        "detail": "The database is unavailable; try again shortly.",
        "code": "service_unavailable",
        "status": "unavailable",
        "database": "unavailable",
    }
    assert anonymous.get("/api/properties/").status_code == 200
    assert guest.get("/api/bookings/").status_code == 200
    assert anonymous.get("/api/health/").json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db(transaction=True)
def test_database_error_outside_a_drf_view_is_a_503_too():
    request = RequestFactory().get("/api/anything/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        # Django calls handler500 inside its own `except`, exactly like this.
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert json.loads(response.content) == UNAVAILABLE


def days(n: int) -> str:
    return str(utc_today() + timedelta(days=n))


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_live_server_answers_503_while_postgresql_is_gone_and_recovers_without_restart():
    token = f"Bearer {token_pair_create(user=UserFactory.create()).access_token}"
    listing = PropertyFactory.create()
    proxy = TcpProxy(("127.0.0.1", int(connection.settings_dict["PORT"] or 5432)))
    try:
        with live_gunicorn(database_url=database_url(port=proxy.port)) as server:
            workers = server.worker_pids()
            before = http("GET", f"{server.url}/api/properties/{listing.pk}/")

            proxy.cut()  # established connections drop, new ones are refused
            down = [
                http("GET", f"{server.url}/api/properties/{listing.pk}/", timeout=10),
                http("GET", f"{server.url}/api/bookings/", headers={"Authorization": token}),
                http("GET", f"{server.url}/api/health/", timeout=10),
            ]

            proxy.restore()
            after = [
                http("GET", f"{server.url}/api/properties/{listing.pk}/"),
                http("GET", f"{server.url}/api/bookings/", headers={"Authorization": token}),
                http("GET", f"{server.url}/api/health/"),
            ]
            workers_after = server.worker_pids()
    finally:
        proxy.close()

    assert before.status == 200
    assert [r.status for r in down] == [503, 503, 503]
    assert down[0].body == down[1].body == UNAVAILABLE
    assert down[0].headers["Retry-After"] == "5"
    assert down[2].body == {
        "detail": "The database is unavailable; try again shortly.",
        "code": "service_unavailable",
        "status": "unavailable",
        "database": "unavailable",
    }
    assert [r.status for r in after] == [200, 200, 200]
    assert after[0].body == before.body
    assert workers_after == workers  # recovered by itself: no worker was restarted


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_black_holed_database_is_a_503_within_the_connect_timeout_not_a_hang():
    listing = PropertyFactory.create()
    proxy = TcpProxy(("127.0.0.1", int(connection.settings_dict["PORT"] or 5432)))
    try:
        with live_gunicorn(
            database_url=database_url(port=proxy.port), DATABASE_CONNECT_TIMEOUT="2"
        ) as server:
            assert http("GET", f"{server.url}/api/properties/{listing.pk}/").status == 200
            proxy.black_hole()  # connections are accepted and never answered
            # A hang would hit the client's 10 s timeout (an exception, so a failure); the
            # 2 s connect timeout answers first. Not a timing assertion: any 503 in 10 s passes.
            down = http("GET", f"{server.url}/api/properties/{listing.pk}/", timeout=10)
            proxy.restore()
            after = http("GET", f"{server.url}/api/properties/{listing.pk}/")
    finally:
        proxy.close()

    assert (down.status, down.body) == (503, UNAVAILABLE)
    assert after.status == 200


def _backend_waiting_on_a_lock() -> tuple[int, str] | None:
    with connection.cursor() as cursor:
        # Statistics views are a snapshot per transaction; the caller polls inside one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def _lock_property(listing, guest):
    Property.objects.select_for_update().get(pk=listing.pk)


def _lock_guest(listing, guest):
    User.objects.select_for_update().get(pk=guest.pk)


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("hold", "caught_at", "committed"),
    [
        # The worker has written its Idempotency-Key row and waits for the property's lock.
        # (The look-up is a prepared statement: PREPARE ... AS SELECT the first time in a worker,
        # EXECUTE afterwards, core/db/backends/postgresql.)
        (_lock_property, ('SELECT "properties_property"', "EXECUTE hot_"), False),
        # The worker has written everything and sent COMMIT, which waits for the deferred
        # foreign-key check on the guest's row: the commit lands after the worker is dead.
        (_lock_guest, ("COMMIT",), True),
    ],
    ids=["before-commit", "during-commit"],
)
def test_worker_killed_mid_booking_leaves_all_or_nothing_and_the_retry_is_safe(
    hold, caught_at, committed
):
    listing = PropertyFactory.create(price_per_night="120.50")
    guest = UserFactory.create()
    headers = {
        "Authorization": f"Bearer {token_pair_create(user=guest).access_token}",
        "Idempotency-Key": "8d1c7e52-0f3a-4c55-9b1e-killed-worker",
    }
    body = {"property_id": listing.pk, "check_in": days(30), "check_out": days(33)}
    outcome: dict[str, Any] = {}

    def book(url):
        try:
            outcome["response"] = http("POST", url, body=body, headers=headers, timeout=30)
        except OSError as exc:
            outcome["error"] = exc

    with live_gunicorn(database_url=database_url()) as server:
        (worker,) = server.worker_pids()
        with transaction.atomic():
            hold(listing, guest)  # catches the worker inside its transaction
            request = threading.Thread(target=book, args=(f"{server.url}/api/bookings/",))
            request.start()
            deadline = time.monotonic() + 20
            while (waiting := _backend_waiting_on_a_lock()) is None:
                assert time.monotonic() < deadline, f"the worker never blocked: {outcome}"
                time.sleep(0.05)
            os.kill(worker, signal.SIGKILL)
            request.join(timeout=30)
        backend, query = waiting
        deadline = time.monotonic() + 20
        while _backend_alive(backend):  # lock released: the backend finishes what it had
            assert time.monotonic() < deadline, "the dead worker's backend lingered"
            time.sleep(0.05)
        left_behind = list(Booking.objects.values_list("guest", "total_price"))
        keys_left = IdempotencyKey.objects.count()

        # The client cannot know how far its request got, so it retries with the same key.
        retry = http("POST", f"{server.url}/api/bookings/", body=body, headers=headers)
        again = http("POST", f"{server.url}/api/bookings/", body=body, headers=headers)
        # Without the key a retry cannot tell its own booking from someone else's.
        without_key = http(
            "POST",
            f"{server.url}/api/bookings/",
            body=body,
            headers={"Authorization": headers["Authorization"]},
        )

    assert any(fragment in query for fragment in caught_at), query
    assert set(outcome) == {"error"}  # the connection died: the client never got an answer
    if committed:
        assert (left_behind, keys_left) == ([(guest.pk, Decimal("361.50"))], 1)
    else:
        assert (left_behind, keys_left) == ([], 0)
    booking = Booking.objects.get()  # exactly one, however the crash fell
    assert (booking.guest, booking.nights, booking.status) == (guest, 3, "confirmed")
    assert str(booking.total_price) == "361.50"
    assert (retry.status, again.status, without_key.status) == (201, 201, 409)
    assert retry.body == again.body
    assert retry.body["id"] == booking.pk
    assert retry.headers.get("Idempotent-Replayed") == ("true" if committed else None)
    assert again.headers["Idempotent-Replayed"] == "true"
