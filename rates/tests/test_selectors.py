"""stay_errors: every rule, one reason at a time, and all reasons together."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from calendars.models import Hold
from properties.tests.factories import PropertyFactory
from rates.models import RatePlan
from rates.selectors import calendar_nights, stay_errors
from rates.tests.factories import RateDayFactory, RatePlanFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TODAY = date(2030, 6, 1)


def day(n: int) -> date:
    return TODAY + timedelta(days=n)


def errors_for(listing, start: int, end: int, guests: int = 1, now: datetime = NOW, **kwargs):
    return stay_errors(
        listing=listing, check_in=day(start), check_out=day(end), guests=guests, now=now, **kwargs
    )


def hold(listing, start: int, end: int, kind=Hold.Kind.BOOKING, **kwargs) -> Hold:
    return Hold.objects.create(
        property=listing, kind=kind, start=day(start), end=day(end), **kwargs
    )


def test_a_listing_without_rules_takes_any_free_stay():
    assert errors_for(PropertyFactory.create(), 0, 3) == {}


def test_the_shape_of_the_stay():
    listing = PropertyFactory.create()

    assert errors_for(listing, 3, 3) == {"check_out": ["Check-out must be after check-in."]}
    assert errors_for(listing, 3, 369) == {
        "check_out": ["A stay cannot be longer than 365 nights."]
    }


def test_past_check_in_and_the_booking_window():
    plan = RatePlanFactory.create(booking_window_days=30)

    assert errors_for(plan.property, -1, 2) == {"check_in": ["Check-in cannot be in the past."]}
    assert errors_for(plan.property, 30, 32) == {}
    assert errors_for(plan.property, 31, 33) == {
        "check_in": ["Check-in cannot be more than 30 days ahead."]
    }


def test_the_global_window_is_the_default():
    listing = PropertyFactory.create()

    assert errors_for(listing, 731, 732) == {
        "check_in": ["Check-in cannot be more than 730 days ahead."]
    }


def test_advance_notice_ends_at_the_check_in_time_notice_days_before():
    listing = PropertyFactory.create(check_in_from=time(15))
    RatePlanFactory.create(property=listing, advance_notice_days=2)
    # Arriving on the 3rd needs booking before 1 June 15:00 local: it is 12:00.
    assert errors_for(listing, 2, 4) == {}
    at_three = NOW.replace(hour=15)
    assert list(errors_for(listing, 2, 4, now=at_three)) == ["check_in"]
    assert errors_for(listing, 3, 5, now=at_three) == {}
    assert list(errors_for(listing, 1, 3)) == ["check_in"]


def test_no_notice_allows_arriving_today_until_midnight():
    listing = PropertyFactory.create()

    assert errors_for(listing, 0, 1, now=NOW.replace(hour=23, minute=59)) == {}


def test_min_and_max_nights_and_the_arrival_date_minimum():
    plan = RatePlanFactory.create(min_nights=3, max_nights=10)
    RateDayFactory.create(property=plan.property, date=day(20), min_nights=5)
    RateDayFactory.create(property=plan.property, date=day(30), min_nights=1)

    assert errors_for(plan.property, 5, 7) == {
        "check_out": [f"Stays arriving on {day(5)} must be at least 3 nights."]
    }
    assert errors_for(plan.property, 5, 8) == {}
    assert errors_for(plan.property, 5, 16) == {
        "check_out": ["Stays cannot be longer than 10 nights."]
    }
    assert list(errors_for(plan.property, 20, 24)) == ["check_out"]
    assert errors_for(plan.property, 20, 25) == {}
    assert errors_for(plan.property, 30, 31) == {}
    # The minimum is the arrival date's: a day inside the stay does not count.
    assert errors_for(plan.property, 18, 21) == {}


def test_closed_nights_and_closed_to_arrival_and_departure():
    listing = PropertyFactory.create()
    RateDayFactory.create(property=listing, date=day(10), closed=True)
    RateDayFactory.create(property=listing, date=day(20), closed_to_arrival=True)
    RateDayFactory.create(property=listing, date=day(25), closed_to_departure=True)

    assert errors_for(listing, 9, 11) == {"nights": [f"Closed nights: {day(10)}."]}
    assert errors_for(listing, 10, 11) == {"nights": [f"Closed nights: {day(10)}."]}
    # Leaving on a closed night's date is fine: that night is not part of the stay.
    assert errors_for(listing, 8, 10) == {}
    assert errors_for(listing, 20, 22) == {"check_in": [f"No arrivals on {day(20)}."]}
    assert errors_for(listing, 19, 22) == {}
    assert errors_for(listing, 23, 25) == {"check_out": [f"No departures on {day(25)}."]}
    assert errors_for(listing, 23, 26) == {}


def test_capacity_and_the_availability_flag():
    listing = PropertyFactory.create(max_guests=2, availability=False)

    assert errors_for(listing, 1, 2, guests=3) == {
        "guests": ["This place takes at most 2 guests."],
        "property": ["This property is not open for booking."],
    }


def test_held_nights_of_every_kind_and_never_whose_or_the_note():
    listing = PropertyFactory.create()
    hold(listing, 5, 8, kind=Hold.Kind.BLOCK, note="my private note")
    hold(listing, 10, 12)

    assert errors_for(listing, 7, 11) == {
        "nights": [
            f"The nights from {day(5)} to {day(8)} (check-out day) are already blocked by the "
            "host.",
            f"The nights from {day(10)} to {day(12)} (check-out day) are already booked.",
        ]
    }
    assert errors_for(listing, 8, 10) == {}


def test_an_expired_request_holds_nothing_and_exclude_hold_ignores_ones_own():
    listing = PropertyFactory.create()
    hold(listing, 5, 8, expires_at=NOW)
    own = hold(listing, 10, 12)

    assert errors_for(listing, 5, 8) == {}
    assert errors_for(listing, 10, 13, exclude_hold=own) == {}


def test_preparation_time_between_stays_both_ways_but_not_around_blocks():
    plan = RatePlanFactory.create(preparation_nights=2)
    listing = plan.property
    hold(listing, 10, 12)
    hold(listing, 30, 32, kind=Hold.Kind.IMPORT)
    hold(listing, 50, 52, kind=Hold.Kind.BLOCK)

    assert list(errors_for(listing, 13, 15)) == ["nights"]  # one free night only
    assert errors_for(listing, 14, 16) == {}
    assert list(errors_for(listing, 26, 29)) == ["nights"]  # one night before the import
    assert errors_for(listing, 26, 28) == {}
    assert errors_for(listing, 52, 54) == {}  # right after a block
    assert errors_for(listing, 48, 50) == {}


def test_every_reason_at_once():
    plan = RatePlanFactory.create(min_nights=5, booking_window_days=10)
    RateDayFactory.create(property=plan.property, date=day(20), closed=True)

    errors = errors_for(plan.property, 19, 21, guests=9)

    assert set(errors) == {"check_in", "check_out", "guests", "nights"}


def test_calendar_marks_impossible_arrivals_and_departures():
    plan = RatePlanFactory.create(preparation_nights=1)
    listing = plan.property
    hold(listing, 3, 5)
    RateDayFactory.create(property=listing, date=day(8), closed_to_arrival=True, price=90)
    RateDayFactory.create(property=listing, date=day(9), closed_to_departure=True, min_nights=2)

    nights = {
        night.date: night
        for night in calendar_nights(listing=listing, start=day(0), end=day(10), now=NOW)
    }

    assert [nights[day(n)].available for n in range(7)] == [
        True,
        True,
        True,
        False,
        False,
        True,
        True,
    ]
    # Arrivals: not on held nights, nor the day after the stay (one free night needed).
    assert [nights[day(n)].closed_to_arrival for n in range(7)] == [
        False,
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    # Departures: not the day after an unavailable night, nor too close before the next stay.
    assert [nights[day(n)].closed_to_departure for n in range(1, 7)] == [
        False,
        False,
        True,
        True,
        True,
        False,
    ]
    assert (nights[day(8)].closed_to_arrival, nights[day(8)].price) == (True, Decimal(90))
    assert (nights[day(9)].closed_to_departure, nights[day(9)].min_nights) == (True, 2)
    assert nights[day(0)].min_nights == RatePlan().min_nights


@pytest.mark.parametrize(
    "rules",
    [
        {"booking_window_days": 4},
        {"advance_notice_days": 2},
        {"advance_notice_days": 1, "booking_window_days": 3},
    ],
)
def test_the_calendar_s_arrivals_agree_with_the_stay_check(rules):
    # The window and the notice as a date picker shows them: a day is closed to arrival
    # exactly when a one-night stay arriving that day is refused for its check-in.
    listing = RatePlanFactory.create(min_nights=1, **rules).property
    nights = {
        night.date: night
        for night in calendar_nights(listing=listing, start=day(0), end=day(8), now=NOW)
    }

    closed = [nights[day(n)].closed_to_arrival for n in range(8)]
    refused = ["check_in" in errors_for(listing, n, n + 1) for n in range(8)]
    assert closed == refused
    assert True in closed
    assert False in closed


def test_stay_errors_query_count(django_assert_num_queries):
    listing = PropertyFactory.create()
    with django_assert_num_queries(3):  # plan, dates, holds
        errors_for(listing, 1, 4)
