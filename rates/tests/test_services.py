from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.stays import utc_today
from properties.tests.factories import PropertyFactory
from rates.models import RateDay, RatePlan, Tax
from rates.services import RangeEdit, rate_days_edit, rate_plan_set
from rates.tests.factories import RateDayFactory, RatePlanFactory

pytestmark = pytest.mark.django_db


def day(n: int):
    return utc_today() + timedelta(days=n)


def rows(listing) -> list[tuple]:
    return list(
        RateDay.objects.filter(property=listing)
        .order_by("date")
        .values_list(
            "date", "price", "min_nights", "closed", "closed_to_arrival", "closed_to_departure"
        )
    )


def test_plan_is_created_with_defaults_and_only_named_fields_change():
    listing = PropertyFactory.create()

    plan = rate_plan_set(listing=listing, changes={"min_nights": 2})
    again = rate_plan_set(listing=listing, changes={"cleaning_fee": Decimal("30")})

    assert again.pk == plan.pk == listing.pk
    stored = RatePlan.objects.get()
    assert (stored.min_nights, stored.cleaning_fee, stored.max_nights) == (2, Decimal("30"), 365)


def test_min_above_max_is_refused_and_nothing_changes():
    plan = RatePlanFactory.create(max_nights=5)

    with pytest.raises(ValidationError) as caught:
        rate_plan_set(listing=plan.property, changes={"min_nights": 6})

    assert caught.value.message_dict == {"min_nights": ["Cannot be more than max_nights (5)."]}
    assert RatePlan.objects.get().min_nights == 1


def test_taxes_are_replaced_only_when_given():
    listing = PropertyFactory.create()
    rate_plan_set(
        listing=listing,
        changes={},
        taxes=[{"name": "VAT", "kind": "percent", "value": Decimal("20")}],
    )
    rate_plan_set(listing=listing, changes={"min_nights": 2})

    assert list(Tax.objects.values_list("name", flat=True)) == ["VAT"]

    rate_plan_set(listing=listing, changes={}, taxes=[])

    assert Tax.objects.count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"min_nights": 0},
        {"max_nights": 366},
        {"booking_window_days": 731},
        {"advance_notice_days": 31},
        {"preparation_nights": 31},
        {"weekly_discount_percent": Decimal("100")},
        {"cleaning_fee": Decimal("-1")},
        {"weekend_price": Decimal("0")},
        {"weekend_days": 128},
        {"guests_included": 0},
    ],
)
def test_the_database_refuses_every_out_of_range_rule(changes):
    listing = PropertyFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        RatePlan.objects.create(property=listing, **changes)


@pytest.mark.parametrize(
    "fields",
    [
        {"price": Decimal("0")},
        {"min_nights": 0},
        {},  # a row with nothing in it
    ],
)
def test_the_database_refuses_bad_or_empty_date_rows(fields):
    listing = PropertyFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        RateDay.objects.create(property=listing, date=day(1), **fields)


def test_the_database_refuses_a_percent_tax_over_100():
    listing = PropertyFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        Tax.objects.create(property=listing, name="T", kind="percent", value=Decimal("101"))


def test_a_range_edit_writes_one_row_per_date_and_weekdays_filter_it():
    listing = PropertyFactory.create()
    monday = day(7 - day(0).weekday())  # the next Monday

    count = rate_days_edit(
        listing=listing,
        edits=[
            RangeEdit(
                start=monday,
                end=monday + timedelta(days=14),
                weekdays=frozenset({4, 5}),
                changes={"price": Decimal("120")},
            )
        ],
    )

    assert count == 4
    assert [row[0].weekday() for row in rows(listing)] == [4, 5, 4, 5]
    assert {row[1] for row in rows(listing)} == {Decimal("120")}


def test_edits_merge_fields_and_null_clears_and_empty_rows_go():
    listing = PropertyFactory.create()
    RateDayFactory.create(property=listing, date=day(1), price=Decimal("90"), closed=True)
    RateDayFactory.create(property=listing, date=day(2), price=Decimal("90"))

    rate_days_edit(
        listing=listing,
        edits=[
            RangeEdit(start=day(1), end=day(3), changes={"min_nights": 2}),
            RangeEdit(start=day(1), end=day(3), changes={"price": None, "closed": None}),
        ],
    )

    assert rows(listing) == [
        (day(1), None, 2, False, False, False),
        (day(2), None, 2, False, False, False),
    ]

    rate_days_edit(
        listing=listing, edits=[RangeEdit(start=day(1), end=day(2), changes={"min_nights": None})]
    )

    assert rows(listing) == [(day(2), None, 2, False, False, False)]


def test_a_bulk_edit_is_all_or_nothing_and_names_every_bad_item():
    listing = PropertyFactory.create()
    RateDayFactory.create(property=listing, date=day(1), price=Decimal("90"))

    with pytest.raises(ValidationError) as caught:
        rate_days_edit(
            listing=listing,
            edits=[
                RangeEdit(start=day(1), end=day(5), changes={"price": Decimal("50")}),
                RangeEdit(start=day(5), end=day(5), changes={"closed": True}),
                RangeEdit(start=day(-3), end=day(1), changes={"closed": True}),
                RangeEdit(start=day(1), end=day(2), changes={}),
            ],
        )

    assert caught.value.message_dict == {
        "edits": [
            "1: end: Must be after start.",
            "2: start: Cannot be in the past.",
            "3: Give at least one of price, min_nights, closed, closed_to_arrival, "
            "closed_to_departure.",
        ]
    }
    assert rows(listing) == [(day(1), Decimal("90"), None, False, False, False)]


def test_ranges_cannot_reach_past_the_window():
    listing = PropertyFactory.create()

    with pytest.raises(ValidationError) as caught:
        rate_days_edit(
            listing=listing,
            edits=[RangeEdit(start=day(1000), end=day(1200), changes={"closed": True})],
        )

    assert caught.value.message_dict == {"edits": ["0: end: Cannot be more than 1095 days ahead."]}
