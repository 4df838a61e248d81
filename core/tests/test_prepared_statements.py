"""The hot look-ups (core.compiled_queries.CompiledQuery) are prepared on the server, once per
connection, kept through rollbacks, and answer as before; Django's own queries are never
prepared; the setting turns it off for poolers that cannot keep prepared statements
(core/db/backends/postgresql)."""

import pytest
from django.db import NotSupportedError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.db.backends.postgresql.base import _session_statements
from properties.models import Property
from properties.selectors import property_detail_parts
from properties.tests.factories import PropertyFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statements"),
    pytest.mark.django_db,
]


def prepared() -> list[tuple[str, int]]:
    """This session's prepared statements, and how many times each was planned."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements"
            " ORDER BY prepare_time"
        )
        return cursor.fetchall()


@pytest.fixture
def no_prepared_statements():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    _session_statements(connection.connection).clear()
    assert prepared() == []


def test_the_detail_is_prepared_once_and_reused_for_every_id(no_prepared_statements):
    first, second = PropertyFactory.create_batch(2)

    answers = [property_detail_parts(property_id=listing.pk) for listing in (first, second)]
    assert Property.objects.filter(pk=first.pk).exists()  # Django's own query

    statements = prepared()
    assert len(statements) == 1, statements
    statement, plans = statements[0]
    assert statement.startswith("PREPARE hot_")
    assert " AS SELECT " in statement
    assert '"properties_property"."id" = $1' in statement
    assert plans == 2  # both ids ran the one prepared statement
    assert [answer and answer[0]["title"] for answer in answers] == [first.title, second.title]


def test_a_missing_id_answers_none_from_the_prepared_statement(no_prepared_statements):
    assert property_detail_parts(property_id=2**62) is None
    assert len(prepared()) == 1


def test_nothing_is_prepared_when_the_setting_is_off(no_prepared_statements, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PREPARED_STATEMENTS", False)
    listing = PropertyFactory.create()

    answer = property_detail_parts(property_id=listing.pk)

    assert answer is not None
    assert answer[0]["title"] == listing.title
    assert prepared() == []


def test_a_rollback_keeps_the_prepared_statements(no_prepared_statements):
    listing = PropertyFactory.create()
    property_detail_parts(property_id=listing.pk)

    def refused() -> None:
        with transaction.atomic():  # a savepoint rolled back, as a refused booking's
            property_detail_parts(property_id=listing.pk)
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        refused()

    with CaptureQueriesContext(connection) as queries:
        answer = property_detail_parts(property_id=listing.pk)
    assert answer is not None
    name = prepared()[0][0].split()[1]
    assert [query["sql"] for query in queries.captured_queries] == [f"EXECUTE {name}({listing.pk})"]
    assert prepared()[0][1] == 3


def test_a_statement_deallocated_behind_our_back_is_prepared_again(no_prepared_statements):
    listing = PropertyFactory.create()
    property_detail_parts(property_id=listing.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {prepared()[0][0].split()[1]}")

    with pytest.raises(ProgrammingError), transaction.atomic():
        property_detail_parts(property_id=listing.pk)  # this one fails...
    answer = property_detail_parts(property_id=listing.pk)  # ...the next prepares again

    assert answer is not None
    assert len(prepared()) == 1


def test_a_statement_the_session_has_without_our_record_of_it_is_used(no_prepared_statements):
    # As when the record was lost: the session's statement is found, never prepared twice.
    listing = PropertyFactory.create()
    property_detail_parts(property_id=listing.pk)
    _session_statements(connection.connection).clear()

    with pytest.raises(ProgrammingError), transaction.atomic():
        property_detail_parts(property_id=listing.pk)  # "already exists": this one fails...
    answer = property_detail_parts(property_id=listing.pk)  # ...the next replaces it

    assert answer is not None
    assert len(prepared()) == 1
    assert prepared()[0][1] == 1  # planned once since it was prepared again


def test_a_statement_a_migration_made_stale_is_prepared_again(no_prepared_statements):
    listing = PropertyFactory.create()
    property_detail_parts(property_id=listing.pk)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER
            cursor.execute("ALTER TABLE properties_property ALTER COLUMN title TYPE varchar(101)")

        # "cached plan must not change result type": this one fails...
        with pytest.raises(NotSupportedError), transaction.atomic():
            property_detail_parts(property_id=listing.pk)
        answer = property_detail_parts(property_id=listing.pk)  # ...the next prepares anew

        assert answer is not None
        assert answer[0]["title"] == listing.title
    finally:
        # The test's transaction rolls the column back: no statement may outlive it.
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
        _session_statements(connection.connection).clear()
