"""The listings' night masks (PostgreSQL): `held_nights` (calendars) and `rule_dates` (rates),
kept by triggers as a superset of what the holds and the day rows may refuse, and what the
dated search makes of them (core.db.night_masks)."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.models import Hold
from conftest import migrate_to
from core.db.night_masks import HORIZON
from core.stays import utc_today
from properties.models import Property
from properties.tests.factories import PropertyFactory
from rates.models import RateDay
from rates.selectors import property_bookable_between
from rates.tests.factories import RateDayFactory, RatePlanFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="night masks exist on PostgreSQL only"
    ),
]

# After the database's clock, as the masks list every night after their horizon (40 days
# before the day the database computes them).
BASE = utc_today() + timedelta(days=100)
NOW = datetime.combine(BASE - timedelta(days=9), time(12), tzinfo=UTC)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def mask(listing: Property, column: str) -> tuple[date | None, list[tuple[date, date]]]:
    """(the horizon before which everything counts, the listed [start, end) ranges)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT lower(r), upper(r) FROM properties_property, unnest({column}) r "
            "WHERE id = %s ORDER BY lower(r) NULLS FIRST",
            [listing.pk],
        )
        ranges = cursor.fetchall()
    if not ranges:
        return None, []
    horizon = None
    if ranges[0][0] is None:
        horizon = ranges.pop(0)[1]
    return horizon, ranges


def mask_horizon() -> date:
    """The masks' horizon (core.db.night_masks.HORIZON), by the database's clock."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {HORIZON}")
        return cursor.fetchone()[0]


def test_every_way_of_writing_holds_keeps_the_mask_of_their_nights():
    listing, other = PropertyFactory.create_batch(2)
    horizon = mask_horizon()
    assert mask(listing, "held_nights") == (None, [])  # no hold yet: the empty default

    first = Hold.objects.create(property=listing, kind=Hold.Kind.BLOCK, start=day(0), end=day(3))
    assert mask(listing, "held_nights") == (horizon, [(day(0), day(3))])

    Hold.objects.bulk_create(
        [
            Hold(property=listing, kind=Hold.Kind.BOOKING, start=day(3), end=day(5)),
            Hold(property=listing, kind=Hold.Kind.IMPORT, start=day(10), end=day(12)),
            Hold(property=other, kind=Hold.Kind.BLOCK, start=day(1), end=day(2)),
        ]
    )
    # Adjacent holds merge: the mask is about nights, not rows.
    assert mask(listing, "held_nights") == (horizon, [(day(0), day(5)), (day(10), day(12))])
    assert mask(other, "held_nights") == (horizon, [(day(1), day(2))])

    Hold.objects.filter(pk=first.pk).update(start=day(1))
    assert mask(listing, "held_nights") == (horizon, [(day(1), day(5)), (day(10), day(12))])

    # Moved to another listing: both masks change.
    Hold.objects.filter(property=listing, start=day(10)).update(property=other)
    assert mask(listing, "held_nights") == (horizon, [(day(1), day(5))])
    assert mask(other, "held_nights") == (horizon, [(day(1), day(2)), (day(10), day(12))])

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM calendars_hold WHERE property_id = %s", [listing.pk])
    assert mask(listing, "held_nights") == (horizon, [])
    assert mask(other, "held_nights") == (horizon, [(day(1), day(2)), (day(10), day(12))])


def test_holds_that_end_before_the_horizon_are_covered_by_it():
    listing = PropertyFactory.create()
    horizon = mask_horizon()
    Hold.objects.create(
        property=listing,
        kind=Hold.Kind.BLOCK,
        start=horizon - timedelta(days=10),
        end=horizon - timedelta(days=5),
    )
    Hold.objects.create(
        property=listing,
        kind=Hold.Kind.BLOCK,
        start=horizon - timedelta(days=1),
        end=horizon + timedelta(days=2),
    )
    # The first is before the horizon (which counts as held); the second reaches past it.
    assert mask(listing, "held_nights") == (horizon + timedelta(days=2), [])


def test_day_rows_that_may_refuse_a_stay_are_masked_and_prices_are_not():
    listing = PropertyFactory.create()
    horizon = mask_horizon()
    RateDayFactory.create(property=listing, date=day(0), price=Decimal("90"))
    assert mask(listing, "rule_dates") == (horizon, [])

    rules: list[dict] = [
        {"closed": True},
        {"closed_to_arrival": True},
        {"closed_to_departure": True},
        {"min_nights": 3},
    ]
    for offset, rule in enumerate(rules, start=1):
        RateDayFactory.create(property=listing, date=day(2 * offset), **rule)
    assert mask(listing, "rule_dates") == (
        horizon,
        [(day(n), day(n + 1)) for n in (2, 4, 6, 8)],
    )

    RateDay.objects.filter(property=listing, date=day(8)).update(min_nights=None, price=10)
    RateDay.objects.filter(property=listing, date=day(0)).update(closed=True)
    assert mask(listing, "rule_dates") == (
        horizon,
        [(day(n), day(n + 1)) for n in (0, 2, 4, 6)],
    )
    RateDay.objects.filter(property=listing).delete()
    assert mask(listing, "rule_dates") == (horizon, [])


def dated_search(listings: list[Property], start: int, end: int) -> set[int]:
    queryset = property_bookable_between(
        Property.objects.filter(pk__in=[listing.pk for listing in listings]),
        check_in=day(start),
        check_out=day(end),
        guests=1,
        now=NOW,
    )
    return set(queryset.values_list("pk", flat=True))


def set_every_mask(value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE properties_property SET held_nights = %s, rule_dates = %s", [value] * 2
        )


def test_the_search_answers_the_same_whatever_superset_the_masks_hold():
    """A mask only spares look-ups: where it says "maybe" (here: everywhere), the rows decide.
    Each listing is refused by one kind of row, or by none."""
    free, booked, near_a_stay, closed, pending_void = PropertyFactory.create_batch(5)
    Hold.objects.create(property=booked, kind=Hold.Kind.BOOKING, start=day(2), end=day(4))
    RatePlanFactory.create(property=near_a_stay, preparation_nights=2)
    Hold.objects.create(property=near_a_stay, kind=Hold.Kind.BOOKING, start=day(6), end=day(8))
    RateDayFactory.create(property=closed, date=day(3), closed=True)
    # A request past its expiry holds nothing, although its row (and the mask) list its nights.
    Hold.objects.create(
        property=pending_void,
        kind=Hold.Kind.BOOKING,
        start=day(2),
        end=day(5),
        expires_at=NOW - timedelta(minutes=1),
    )
    listings = [free, booked, near_a_stay, closed, pending_void]
    expected = {free.pk, pending_void.pk}
    assert dated_search(listings, 3, 5) == expected

    set_every_mask("{(,)}")
    assert dated_search(listings, 3, 5) == expected
    set_every_mask("{}")  # a mask that lies (nothing held): the search trusts it, by design
    assert dated_search(listings, 3, 5) == {listing.pk for listing in listings}


def test_the_dated_search_asks_both_masks_on_postgresql():
    # That it trusts them: the lying mask above. That it spares the probes: docs/benchmarks.md,
    # section 16 (the plans' loop counts).
    listing = PropertyFactory.create()
    Hold.objects.create(property=listing, kind=Hold.Kind.BOOKING, start=day(2), end=day(4))
    with CaptureQueriesContext(connection) as queries:
        assert dated_search([listing], 10, 12) == {listing.pk}
        assert dated_search([listing], 3, 5) == set()
    assert len(queries) == 2
    for query in queries:
        assert 'NOT ("properties_property"."held_nights" && daterange(' in query["sql"]
        assert 'NOT ("properties_property"."rule_dates" && daterange(' in query["sql"]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_mask_the_holds_and_day_rows_that_exist():
    old = migrate_to([("calendars", "0003_ical_feeds"), ("rates", "0002_plan_rules_copy_triggers")])
    User = old.get_model("accounts", "User")
    OldProperty = old.get_model("properties", "Property")
    OldHold = old.get_model("calendars", "Hold")
    OldRateDay = old.get_model("rates", "RateDay")
    host = User.objects.create(username="host", email="host@example.com")
    held, plain = (
        OldProperty.objects.create(
            owner=host, title=title, price_per_night=Decimal("20"), location="Somewhere"
        )
        for title in ("Held", "Plain")
    )
    OldHold.objects.create(property=held, kind="block", start=day(0), end=day(2))
    OldRateDay.objects.create(property=held, date=day(5), closed_to_arrival=True)

    migrate_to()

    horizon = mask_horizon()
    held_listing, plain_listing = (
        Property.all_objects.get(pk=held.pk),
        Property.all_objects.get(pk=plain.pk),
    )
    assert mask(held_listing, "held_nights") == (horizon, [(day(0), day(2))])
    assert mask(held_listing, "rule_dates") == (horizon, [(day(5), day(6))])
    assert mask(plain_listing, "held_nights") == (None, [])
    assert mask(plain_listing, "rule_dates") == (None, [])


def row_version(listing: Property) -> str:
    # Its place on disk: every new version of a row (an UPDATE) has its own.
    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM properties_property WHERE id = %s", [listing.pk])
        return cursor.fetchone()[0]


def test_a_hold_write_that_moves_no_night_leaves_the_listings_row_alone():
    listing = PropertyFactory.create()
    hold = Hold.objects.create(
        property=listing, kind=Hold.Kind.BOOKING, start=day(0), end=day(2), expires_at=NOW
    )
    before = row_version(listing)
    Hold.objects.filter(pk=hold.pk).update(expires_at=None, note="confirmed")
    assert row_version(listing) == before
    Hold.objects.filter(pk=hold.pk).update(end=day(3))
    assert row_version(listing) != before


def test_a_new_hold_the_mask_already_covers_leaves_the_listings_row_alone():
    listing = PropertyFactory.create()
    Hold.objects.create(property=listing, kind=Hold.Kind.BLOCK, start=day(0), end=day(2))
    before = row_version(listing)
    horizon = mask_horizon()
    # Before the horizon, which the mask counts as held already.
    Hold.objects.create(
        property=listing,
        kind=Hold.Kind.BLOCK,
        start=horizon - timedelta(days=5),
        end=horizon - timedelta(days=3),
    )
    assert row_version(listing) == before
    Hold.objects.create(property=listing, kind=Hold.Kind.BLOCK, start=day(4), end=day(5))
    assert row_version(listing) != before
    assert mask(listing, "held_nights") == (horizon, [(day(0), day(2)), (day(4), day(5))])


def test_the_listings_table_leaves_room_for_new_row_versions_and_is_vacuumed_early():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'properties_property'")
        assert cursor.fetchone()[0] == ["fillfactor=90", "autovacuum_vacuum_scale_factor=0.01"]


def expected_held(listing: Property, horizon: date) -> tuple[date, list[tuple[date, date]]]:
    """What mask() should read for held_nights: the nights of every hold that ends after the
    horizon, joined to (-infinity, horizon) as a multirange merges them."""
    nights: set[date] = set()
    for start, end in Hold.objects.filter(property=listing, end__gt=horizon).values_list(
        "start", "end"
    ):
        nights.update(start + timedelta(days=n) for n in range((end - start).days))
    return _as_mask(nights, horizon)


def expected_rules(listing: Property, horizon: date) -> tuple[date, list[tuple[date, date]]]:
    """The same for rule_dates: the dates of day rows that may refuse a stay."""
    refusing = RateDay.objects.filter(property=listing, date__gte=horizon).exclude(
        closed=False, closed_to_arrival=False, closed_to_departure=False, min_nights=None
    )
    return _as_mask(set(refusing.values_list("date", flat=True)), horizon)


def _as_mask(dates: set[date], horizon: date) -> tuple[date, list[tuple[date, date]]]:
    upper = horizon
    while upper in dates:
        upper += timedelta(days=1)
    ranges: list[tuple[date, date]] = []
    for night in sorted(night for night in dates if night > upper):
        if ranges and ranges[-1][1] == night:
            ranges[-1] = (ranges[-1][0], night + timedelta(days=1))
        else:
            ranges.append((night, night + timedelta(days=1)))
    return upper, ranges


def agrees(found: tuple, expected: tuple, horizon: date) -> bool:
    # A listing whose table never had a row for it keeps the empty default.
    return found == expected or (found == (None, []) and expected == (horizon, []))


hold_writes = st.lists(
    st.tuples(
        st.sampled_from(["create", "move", "delete", "confirm"]),
        st.integers(0, 1),  # which listing
        st.integers(-50, 30),  # start, days after BASE (some before the horizon)
        st.integers(1, 6),  # nights
    ),
    min_size=1,
    max_size=12,
)
day_writes = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.integers(-50, 30),
        st.sampled_from(
            [
                {"price": Decimal("80")},
                {"closed": True},
                {"closed_to_arrival": True},
                {"closed_to_departure": True},
                {"min_nights": 2},
            ]
        ),
        st.booleans(),  # delete it afterwards
    ),
    max_size=8,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(holds=hold_writes, days=day_writes)
def test_the_masks_list_exactly_what_the_rows_hold_after_any_writes(db, holds, days):
    with transaction.atomic():
        listings = PropertyFactory.create_batch(2)
        horizon = mask_horizon()
        # Near the horizon: the writes below reach before and after it.
        base = horizon + timedelta(days=20)
        for action, which, start, nights in holds:
            listing = listings[which]
            first, last = base + timedelta(days=start), base + timedelta(days=start + nights)
            existing = Hold.objects.filter(property=listing).order_by("id").first()
            if action == "create" or existing is None:
                if not Hold.objects.filter(property=listing, start__lt=last, end__gt=first):
                    Hold.objects.create(
                        property=listing, kind=Hold.Kind.BLOCK, start=first, end=last
                    )
            elif action == "move":
                clash = Hold.objects.filter(property=listing, start__lt=last, end__gt=first)
                if not clash.exclude(pk=existing.pk).exists():
                    Hold.objects.filter(pk=existing.pk).update(start=first, end=last)
            elif action == "delete":
                existing.delete()
            else:
                Hold.objects.filter(pk=existing.pk).update(note="noted")
        for which, offset, rule, delete in days:
            row, _ = RateDay.objects.update_or_create(
                property=listings[which], date=base + timedelta(days=offset), defaults=rule
            )
            if delete:
                row.delete()
        for listing in listings:
            held = mask(listing, "held_nights")
            assert agrees(held, expected_held(listing, horizon), horizon), held
            rules = mask(listing, "rule_dates")
            assert agrees(rules, expected_rules(listing, horizon), horizon), rules
        transaction.set_rollback(True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", ["insert", "move"])
def test_a_writer_that_waited_for_the_listings_lock_keeps_what_the_other_one_wrote(write):
    """A script that writes a hold without locking the listing first, while a booking holds the
    lock: its trigger waits, then must keep the booking's hold, committed meanwhile. A move
    recomputes the mask from the holds, in a statement that starts after the wait; an insert
    adds its nights to the newest version of the row."""
    listing = PropertyFactory.create()
    if write == "move":
        block = Hold.objects.create(
            property=listing, kind=Hold.Kind.BLOCK, start=day(30), end=day(32)
        )
    locked, script_waits = threading.Event(), threading.Event()
    script_backend: list[int] = []
    failures: list[BaseException] = []

    def booking() -> None:
        try:
            with transaction.atomic():
                Property.objects.select_for_update().get(pk=listing.pk)
                locked.set()
                assert script_waits.wait(30), "the script never waited for the listing's lock"
                Hold.objects.create(
                    property=listing, kind=Hold.Kind.BOOKING, start=day(10), end=day(12)
                )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    def script() -> None:
        try:
            assert locked.wait(30)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '30s'")  # a hung test fails, never hangs
            script_backend.append(connection.connection.info.backend_pid)
            with transaction.atomic():
                if write == "insert":
                    Hold.objects.create(
                        property=listing, kind=Hold.Kind.BLOCK, start=day(20), end=day(22)
                    )
                else:
                    Hold.objects.filter(pk=block.pk).update(start=day(20), end=day(22))
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=booking), threading.Thread(target=script)]
    for thread in threads:
        thread.start()
    # The script's trigger is waiting for the booking's row lock once its backend waits on a lock.
    with connections["default"].cursor() as cursor:
        for _ in range(3000):
            if script_backend:
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", script_backend
                )
                row = cursor.fetchone()
                if row is not None and row[0] == "Lock":
                    break
            threading.Event().wait(0.01)
    script_waits.set()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer is still waiting"
    assert not failures, failures
    horizon = mask_horizon()
    assert mask(listing, "held_nights") == (horizon, [(day(10), day(12)), (day(20), day(22))])


def insert_in_sql(
    cursor, property_id: int, *, block: tuple[date, date], closed_to_arrival: date, schema=None
) -> None:
    """A block and a day row closed to arrival, in plain SQL (as a script or a restore writes)."""
    prefix = f'"{schema}".' if schema else ""
    cursor.execute(
        f'INSERT INTO {prefix}calendars_hold (property_id, kind, start, "end", note, created_at) '
        "VALUES (%s, 'block', %s, %s, '', now())",
        [property_id, *block],
    )
    cursor.execute(
        f"INSERT INTO {prefix}rates_rateday (property_id, date, closed, closed_to_arrival, "
        "closed_to_departure) VALUES (%s, %s, false, true, false)",
        [property_id, closed_to_arrival],
    )


def test_holds_and_day_rows_written_before_their_listing_are_masked():
    # Django's foreign keys are checked at commit: in one transaction, a listing's rows may come
    # before the listing itself (loaddata does that when a fixture lists them first).
    template = PropertyFactory.create()
    new_id = template.pk + 1000
    with connection.cursor() as cursor:
        insert_in_sql(cursor, new_id, block=(day(3), day(5)), closed_to_arrival=day(7))
    copy = Property.all_objects.get(pk=template.pk)
    copy.pk = new_id
    copy.save(force_insert=True)
    horizon = mask_horizon()
    assert mask(copy, "held_nights") == (horizon, [(day(3), day(5))])
    assert mask(copy, "rule_dates") == (horizon, [(day(7), day(8))])


def test_the_triggers_find_their_tables_whatever_the_sessions_search_path():
    # A data-only pg_restore writes with an empty search_path.
    listing = PropertyFactory.create()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute("SET LOCAL search_path = ''")
        insert_in_sql(
            cursor, listing.pk, block=(day(1), day(2)), closed_to_arrival=day(4), schema=schema
        )
        cursor.execute("RESET search_path")
        # Every function the triggers call names the schema itself, not "$user".
        cursor.execute(
            "SELECT proname, proconfig FROM pg_proc WHERE proname IN ("
            "'calendars_held_nights', 'calendars_hold_held_nights', "
            "'calendars_listing_held_nights', 'rates_rule_dates', 'rates_rateday_rule_dates', "
            "'rates_listing_rule_dates', 'rates_plan_rules_copy')"
        )
        configs = dict(cursor.fetchall())
    assert len(configs) == 7
    assert set(map(tuple, configs.values())) == {(f"search_path={schema}",)}
    horizon = mask_horizon()
    assert mask(listing, "held_nights") == (horizon, [(day(1), day(2))])
    assert mask(listing, "rule_dates") == (horizon, [(day(4), day(5))])
