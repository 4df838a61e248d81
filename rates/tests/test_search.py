"""The dated search returns exactly the listings a booking would succeed on, in SQL on both
databases: each rule on its own, then random listings, rules and stays (hypothesis)."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from accounts.tests.factories import UserFactory
from bookings.services import booking_create
from calendars.models import Hold
from conftest import client_for
from core.exceptions import BookingConflict, PropertyUnavailable
from properties.models import Property
from properties.selectors import PropertyCriteria, PropertySearch
from properties.tests.factories import PropertyFactory
from rates.models import RateDay, RatePlan
from rates.pricing import stay_price
from rates.selectors import property_bookable_between, stay_errors
from rates.tests.factories import RateDayFactory, RatePlanFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TODAY = date(2030, 6, 1)
# At 10:30 UTC it is already 2 June 00:30 at UTC+14 and still 31 May 23:30 at UTC-11.
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kathmandu", "America/New_York"]


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def found(start: int, end: int, guests: int = 1, now: datetime = NOW) -> set[int]:
    queryset = property_bookable_between(
        Property.objects.all(), check_in=day(start), check_out=day(end), guests=guests, now=now
    )
    return set(queryset.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("rules", "days", "start", "end"),
    [
        ({"min_nights": 3}, [], 1, 3),
        ({"max_nights": 2}, [], 1, 4),
        ({"booking_window_days": 5}, [], 6, 8),
        ({"advance_notice_days": 2}, [], 1, 3),
        ({}, [{"date": 1, "closed": True}], 0, 3),
        ({}, [{"date": 1, "closed_to_arrival": True}], 1, 3),
        ({}, [{"date": 3, "closed_to_departure": True}], 1, 3),
        ({"min_nights": 1}, [{"date": 1, "min_nights": 4}], 1, 3),
    ],
)
def test_each_rule_hides_the_listing_exactly_when_it_refuses_the_stay(rules, days, start, end):
    plan = RatePlanFactory.create(**rules)
    for row in days:
        RateDayFactory.create(property=plan.property, **{**row, "date": day(row["date"])})
    other = PropertyFactory.create()

    result = found(start, end)

    assert result == {other.pk}
    assert stay_errors(
        listing=plan.property, check_in=day(start), check_out=day(end), guests=1, now=NOW
    )


def test_holds_and_preparation_time_hide_listings():
    blocked = PropertyFactory.create()
    Hold.objects.create(property=blocked, kind=Hold.Kind.BLOCK, start=day(2), end=day(4))
    prepared = RatePlanFactory.create(preparation_nights=2).property
    Hold.objects.create(property=prepared, kind=Hold.Kind.BOOKING, start=day(10), end=day(12))
    expired = PropertyFactory.create()
    Hold.objects.create(
        property=expired, kind=Hold.Kind.BOOKING, start=day(2), end=day(4), expires_at=NOW
    )

    assert found(3, 5) == {prepared.pk, expired.pk}
    assert found(13, 15) == {blocked.pk, expired.pk}
    assert found(14, 16) == {blocked.pk, expired.pk, prepared.pk}
    assert found(7, 9) == {blocked.pk, expired.pk}
    assert found(6, 8) == {blocked.pk, expired.pk, prepared.pk}


def test_capacity_and_the_flag():
    small = PropertyFactory.create(max_guests=2)
    PropertyFactory.create(max_guests=6, availability=False)

    assert found(1, 2, guests=2) == {small.pk}
    assert found(1, 2, guests=3) == set()


def test_local_today_at_utc_plus_14_and_minus_11():
    east = PropertyFactory.create(time_zone="Pacific/Kiritimati")
    west = PropertyFactory.create(time_zone="Pacific/Pago_Pago")
    late = datetime(2030, 6, 1, 10, 30, tzinfo=UTC)  # 2 June in the east, 31 May in the west

    assert found(-1, 0, now=late) == {west.pk}
    assert found(0, 1, now=late) == {west.pk}
    assert found(1, 2, now=late) == {east.pk, west.pk}


def test_advance_notice_at_the_check_in_time_across_zones():
    east = PropertyFactory.create(time_zone="Pacific/Kiritimati", check_in_from=time(15))
    RatePlanFactory.create(property=east, advance_notice_days=1)
    # 01:00 UTC on 1 June = 15:00 on 1 June at UTC+14: the deadline for arriving on 2 June.
    before = datetime(2030, 6, 1, 0, 59, tzinfo=UTC)
    at = datetime(2030, 6, 1, 1, 0, tzinfo=UTC)

    assert found(1, 2, now=before) == {east.pk}
    assert found(1, 2, now=at) == set()
    for now, expected in ((before, {}), (at, ["check_in"])):
        errors = stay_errors(listing=east, check_in=day(1), check_out=day(2), guests=1, now=now)
        assert list(errors) == list(expected)


def test_dated_search_through_the_api(api_client):
    plan = RatePlanFactory.create(min_nights=3)
    other = PropertyFactory.create()
    with time_machine.travel(NOW, tick=False):
        response = api_client.get(
            "/api/properties/", {"check_in": str(day(1)), "check_out": str(day(3))}
        )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [other.pk]
    assert response.json()["count"] == 1
    assert plan.property.pk != other.pk


# --- property-based: search <=> stay_errors <=> booking <=> quote ----------------------------

night = st.integers(min_value=-2, max_value=24)
listing_rules = st.fixed_dictionaries(
    {
        "time_zone": st.sampled_from(ZONES),
        "check_in_from": st.sampled_from([time(0), time(11), time(15), time(23, 30)]),
        "max_guests": st.integers(1, 5),
        "availability": st.sampled_from([True, True, True, True, False]),
        "plan": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "min_nights": st.integers(1, 4),
                    "max_nights": st.integers(4, 10),
                    "booking_window_days": st.integers(1, 25),
                    "advance_notice_days": st.integers(0, 3),
                    "preparation_nights": st.integers(0, 3),
                    "weekend_price": st.one_of(st.none(), st.just(Decimal("99.50"))),
                    "weekly_discount_percent": st.sampled_from([Decimal(0), Decimal("12.5")]),
                    "cleaning_fee": st.sampled_from([Decimal(0), Decimal("20")]),
                    "extra_guest_fee": st.sampled_from([Decimal(0), Decimal("7.33")]),
                }
            ),
        ),
        "days": st.lists(
            st.fixed_dictionaries(
                {
                    "date": night,
                    "closed": st.booleans(),
                    "closed_to_arrival": st.booleans(),
                    "closed_to_departure": st.booleans(),
                    "min_nights": st.one_of(st.none(), st.integers(1, 6)),
                    "price": st.one_of(st.none(), st.just(Decimal("80.25"))),
                }
            ),
            max_size=4,
            unique_by=lambda row: row["date"],
        ),
        "holds": st.lists(
            st.tuples(
                night,
                st.integers(1, 4),
                st.sampled_from(list(Hold.Kind)),
                st.booleans(),
            ),
            max_size=2,
        ),
    }
)
moments = st.builds(
    lambda hours, minutes: (
        datetime(2030, 6, 1, tzinfo=UTC) + timedelta(hours=hours, minutes=minutes)
    ),
    st.integers(0, 23),
    st.sampled_from([0, 29, 45, 59]),
)


def _make_listing(owner, rules: dict, now: datetime) -> Property:
    listing = PropertyFactory.create(
        owner=owner,
        time_zone=rules["time_zone"],
        check_in_from=rules["check_in_from"],
        max_guests=rules["max_guests"],
        availability=rules["availability"],
    )
    if rules["plan"] is not None:
        RatePlan.objects.create(property=listing, **rules["plan"])
    for row in rules["days"]:
        if any(row[name] for name in ("closed", "closed_to_arrival", "closed_to_departure")) or (
            row["min_nights"] or row["price"]
        ):
            RateDay.objects.create(property=listing, **{**row, "date": day(row["date"])})
    taken: list[tuple[date, date]] = []
    for start, length, kind, expired in rules["holds"]:
        begin, end = day(start), day(start + length)
        if any(begin < other_end and end > other_start for other_start, other_end in taken):
            continue  # one holder per night: the database refuses overlapping holds
        taken.append((begin, end))
        Hold.objects.create(
            property=listing,
            kind=kind,
            start=begin,
            end=end,
            expires_at=(now - timedelta(minutes=1) if expired else None)
            if kind == Hold.Kind.BOOKING
            else None,
        )
    return listing


def _booking_succeeds(*, guest, listing, check_in, check_out, guests):
    try:
        with transaction.atomic():
            booking = booking_create(
                guest=guest,
                property_id=listing.pk,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
            )
            transaction.set_rollback(True)
            return booking
    except (ValidationError, PropertyUnavailable, BookingConflict):
        return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    listings=st.lists(listing_rules, min_size=1, max_size=3),
    now=moments,
    start=night,
    nights=st.integers(1, 8),
    guests=st.integers(1, 3),
)
def test_search_quote_and_booking_agree(db, listings, now, start, nights, guests):
    check_in, check_out = day(start), day(start + nights)
    with transaction.atomic(), time_machine.travel(now, tick=False):
        owner, guest = UserFactory.create(), UserFactory.create()
        created = [_make_listing(owner, rules, now) for rules in listings]
        ids = [listing.pk for listing in created]

        searched = set(
            property_bookable_between(
                Property.objects.filter(pk__in=ids),
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                now=now,
            ).values_list("pk", flat=True)
        )
        # The list's own path (a query template, compiled once per shape) agrees too.
        criteria = PropertyCriteria(
            check_in=check_in, check_out=check_out, nights=nights, stay_guests=guests, now=now
        )
        rows, total = PropertySearch(criteria).page(offset=0, limit=20)
        assert {row["id"] for row in rows} == searched
        assert total == (len(searched) or None)
        for listing in created:
            errors = stay_errors(
                listing=listing, check_in=check_in, check_out=check_out, guests=guests, now=now
            )
            booking = _booking_succeeds(
                guest=guest, listing=listing, check_in=check_in, check_out=check_out, guests=guests
            )
            assert (listing.pk in searched) == (errors == {}) == (booking is not None), errors
            # `pytest --hypothesis-show-statistics` shows how often each outcome came up.
            event("bookable" if not errors else "refused: " + ", ".join(sorted(errors)))
            if booking is not None:
                quote = stay_price(
                    listing=listing, check_in=check_in, check_out=check_out, guests=guests
                )
                assert booking.total_price == quote.total
                assert booking.price_lines == quote.as_json()
                assert quote.total == sum(line.amount for line in quote.lines)
        transaction.set_rollback(True)


def test_quote_and_booking_totals_agree_through_the_api(api_client, user):
    plan = RatePlanFactory.create(cleaning_fee=Decimal("25"), weekly_discount_percent=10)
    query = {"check_in": str(day(3)), "check_out": str(day(11)), "guests": 2}
    with time_machine.travel(NOW, tick=False):
        quote = api_client.get(f"/api/properties/{plan.property_id}/quote/", query)
        booked = client_for(user).post(
            "/api/bookings/", {"property_id": plan.property_id, **query}, format="json"
        )

    assert (quote.status_code, booked.status_code) == (200, 201)
    assert quote.json()["bookable"] is True
    assert booked.json()["total_price"] == quote.json()["total"]
    assert booked.json()["price_lines"] == quote.json()["lines"]


@pytest.mark.parametrize("now", [NOW, datetime(2030, 6, 1, 10, 30, tzinfo=UTC)])
def test_the_longest_notice_around_its_boundary_in_every_kind_of_zone(now):
    listings = [
        RatePlanFactory.create(
            property=PropertyFactory.create(time_zone=zone, check_in_from=time(hour)),
            advance_notice_days=30,
            booking_window_days=40,
        ).property
        for zone in ZONES
        for hour in (0, 12, 23)
    ]
    for start in range(28, 42):
        searched = found(start, start + 2, now=now)
        expected = {
            listing.pk
            for listing in listings
            if not stay_errors(
                listing=listing, check_in=day(start), check_out=day(start + 2), guests=1, now=now
            )
        }
        assert searched == expected, start
