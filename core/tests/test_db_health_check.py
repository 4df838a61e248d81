"""A reused PostgreSQL connection that a round trip proved alive a moment ago is checked without
another while its socket is quiet, and a session the server ended is still replaced before the
request's first query (core/db/backends/postgresql)."""

import pytest
from django.db import connection, connections

from core.db.backends.postgresql import base as health
from core.db.backends.postgresql.base import DatabaseWrapper
from core.tests.live import database_url, http, live_gunicorn
from properties.tests.factories import PropertyFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's health check"),
    pytest.mark.django_db(transaction=True),
]


WORKER = "health-check-test-worker"


def worker_backends() -> list[int]:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [WORKER],
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(pid: int) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def last_statement_of(backend: int) -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend])
        return cursor.fetchone()[0]


def test_a_connection_proven_a_moment_ago_is_usable_without_a_query_until_it_is_ended(
    monkeypatch,
):
    # "A moment" made an hour, so that a slow machine cannot turn this test's steps into one.
    monkeypatch.setattr(health, "PROVEN_FOR_SECONDS", 3600.0)
    checked = connections.create_connection("default")
    assert isinstance(checked, DatabaseWrapper)
    try:
        checked.ensure_connection()
        with checked.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (backend,) = cursor.fetchone()

        assert checked.is_usable()  # never proven: a round trip
        assert last_statement_of(backend) == "SELECT 1"
        with checked.cursor() as cursor:
            cursor.execute("SELECT 'marker'")
        assert checked.is_usable()  # proven a moment ago, nothing arrived since: no query
        assert last_statement_of(backend) == "SELECT 'marker'"

        assert checked._proven_at is not None
        checked._proven_at -= 3600.0  # the moment over: a round trip again
        assert checked.is_usable()
        assert last_statement_of(backend) == "SELECT 1"

        terminate(backend)

        assert not checked.is_usable()  # the server's farewell made the socket readable
    finally:
        checked.close()


def test_a_request_after_the_server_ended_the_workers_session_is_answered():
    listing = PropertyFactory.create()
    # The worker's connection is told apart by its name (other tests' may linger).
    # Without Redis: a cached answer would not touch the database.
    with live_gunicorn(
        database_url=f"{database_url()}?application_name={WORKER}", REDIS_URL=""
    ) as server:
        url = f"{server.url}/api/properties/{listing.pk}/"
        http("GET", url)  # connects
        before = http("GET", url)  # reuses the connection: proven by a round trip
        (backend,) = worker_backends()  # the one worker's connection, kept (CONN_MAX_AGE)

        terminate(backend)
        after = http("GET", url)
        again = http("GET", url)
        (replacement,) = worker_backends()

    assert (before.status, after.status, again.status) == (200, 200, 200)
    assert after.body == before.body
    assert replacement != backend
