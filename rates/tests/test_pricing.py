from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties.models import Property
from properties.tests.factories import PropertyFactory
from rates.models import RateDay, RatePlan, Tax, weekdays_mask
from rates.pricing import StayPrice, minor_unit, money_round, stay_price
from rates.tests.factories import RateDayFactory, RatePlanFactory, TaxFactory

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 6, 3)


def lines_of(price: StayPrice) -> list[tuple]:
    return [(line.kind, line.quantity, line.unit_amount, line.amount) for line in price.lines]


def test_the_seed_example_four_nights_at_75_totals_300():
    listing = PropertyFactory.create(price_per_night=Decimal("75.00"))

    price = stay_price(
        listing=listing, check_in=MONDAY, check_out=MONDAY + timedelta(days=4), guests=1
    )

    assert price.total == Decimal("300.00")
    assert lines_of(price) == [("nights", 4, Decimal("75.00"), Decimal("300.00"))]
    assert [night.price for night in price.nights] == [Decimal("75.00")] * 4
    assert price.currency == "USD"


def test_weekend_nights_friday_and_saturday_by_default_take_the_weekend_price():
    plan = RatePlanFactory.create(weekend_price=Decimal("100.00"))

    price = stay_price(
        listing=plan.property, check_in=MONDAY, check_out=MONDAY + timedelta(days=7), guests=1
    )

    assert [night.price for night in price.nights] == [Decimal("75.00")] * 4 + [
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("75.00"),
    ]
    assert lines_of(price) == [
        ("nights", 5, Decimal("75.00"), Decimal("375.00")),
        ("nights", 2, Decimal("100.00"), Decimal("200.00")),
    ]


def test_chosen_weekend_days_and_a_date_price_wins_over_the_weekend_price():
    plan = RatePlanFactory.create(weekend_price=Decimal("100.00"), weekend_days=weekdays_mask([0]))
    RateDayFactory.create(property=plan.property, date=MONDAY, price=Decimal("60.00"))

    price = stay_price(
        listing=plan.property,
        check_in=MONDAY,
        check_out=MONDAY + timedelta(days=8),
        guests=1,
    )

    assert price.nights[0].price == Decimal("60.00")
    assert price.nights[7].price == Decimal("100.00")  # the next Monday


@pytest.mark.parametrize(
    ("nights", "kind", "amount"),
    [
        (6, None, None),
        (7, "weekly_discount", Decimal("-52.50")),
        (27, "weekly_discount", Decimal("-202.50")),
        (28, "monthly_discount", Decimal("-420.00")),
    ],
)
def test_weekly_discount_from_7_nights_and_monthly_replaces_it_from_28(nights, kind, amount):
    plan = RatePlanFactory.create(
        weekly_discount_percent=Decimal("10"), monthly_discount_percent=Decimal("20")
    )

    price = stay_price(
        listing=plan.property,
        check_in=MONDAY,
        check_out=MONDAY + timedelta(days=nights),
        guests=1,
    )

    discounts = [line for line in price.lines if line.kind.endswith("discount")]
    if kind is None:
        assert discounts == []
    else:
        assert [(line.kind, line.amount) for line in discounts] == [(kind, amount)]
    assert price.total == sum(line.amount for line in price.lines)


def test_weekly_discount_still_applies_past_28_nights_without_a_monthly_one():
    plan = RatePlanFactory.create(weekly_discount_percent=Decimal("10"))

    price = stay_price(
        listing=plan.property, check_in=MONDAY, check_out=MONDAY + timedelta(days=30), guests=1
    )

    assert [line.kind for line in price.lines] == ["nights", "weekly_discount"]


def test_fees_and_taxes_lines_with_quantities():
    plan = RatePlanFactory.create(
        cleaning_fee=Decimal("40"), extra_guest_fee=Decimal("10"), guests_included=2
    )
    TaxFactory.create(
        property=plan.property, name="VAT", kind=Tax.Kind.PERCENT, value=Decimal("7.5")
    )
    TaxFactory.create(
        property=plan.property,
        name="Tourist tax",
        kind=Tax.Kind.PER_GUEST_NIGHT,
        value=Decimal("1.25"),
    )

    price = stay_price(
        listing=plan.property, check_in=MONDAY, check_out=MONDAY + timedelta(days=3), guests=4
    )

    # subtotal = 225 + 40 + 60 = 325; VAT 7.5% = 24.375 -> 24.38 (half up); tourist 12 x 1.25
    assert lines_of(price) == [
        ("nights", 3, Decimal("75.00"), Decimal("225.00")),
        ("cleaning_fee", 1, Decimal("40.00"), Decimal("40.00")),
        ("extra_guests", 6, Decimal("10.00"), Decimal("60.00")),
        ("tax", 1, Decimal("24.38"), Decimal("24.38")),
        ("tax", 12, Decimal("1.25"), Decimal("15.00")),
    ]
    assert price.total == Decimal("364.38")


def test_rounding_is_half_up_to_the_currency_minor_unit():
    assert minor_unit("USD") == Decimal("0.01")
    assert minor_unit("JPY") == Decimal("1")
    assert minor_unit("BHD") == Decimal("0.01")  # three decimals, capped at the columns' two
    assert money_round(Decimal("2.5"), "JPY") == Decimal("3")
    assert money_round(Decimal("0.125"), "USD") == Decimal("0.13")


def test_a_yen_listing_rounds_each_line_to_whole_yen():
    listing = PropertyFactory.create(price_per_night=Decimal("7500.50"), currency="JPY")

    price = stay_price(
        listing=listing, check_in=MONDAY, check_out=MONDAY + timedelta(days=3), guests=1
    )

    assert price.total == Decimal("22502")  # 22501.50 rounded half up, once
    assert price.currency == "JPY"


def test_json_round_trip_keeps_every_amount_exactly():
    plan = RatePlanFactory.create(cleaning_fee=Decimal("12.34"))
    TaxFactory.create(property=plan.property, value=Decimal("3.33"))
    price = stay_price(
        listing=plan.property, check_in=MONDAY, check_out=MONDAY + timedelta(days=2), guests=1
    )

    again = StayPrice.from_json(price.as_json())

    assert again == price
    assert price.as_json()["total"] == str(price.total)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)


@settings(max_examples=60, deadline=None)
@given(
    price=money,
    weekend=st.one_of(st.none(), money),
    weekly=st.decimals(min_value=0, max_value=Decimal("99.99"), places=2),
    monthly=st.decimals(min_value=0, max_value=Decimal("99.99"), places=2),
    cleaning=st.decimals(min_value=0, max_value=Decimal("9999.99"), places=2),
    extra=st.decimals(min_value=0, max_value=Decimal("999.99"), places=2),
    included=st.integers(1, 6),
    guests=st.integers(1, 8),
    nights=st.integers(1, 40),
    percent_tax=st.one_of(
        st.none(), st.decimals(min_value=Decimal("0.01"), max_value=100, places=2)
    ),
    currency=st.sampled_from(["USD", "JPY", "EUR", "KWD"]),
)
def test_the_total_is_always_the_sum_of_rounded_lines(
    price,
    weekend,
    weekly,
    monthly,
    cleaning,
    extra,
    included,
    guests,
    nights,
    percent_tax,
    currency,
):
    listing = Property(pk=1, price_per_night=price, currency=currency)
    plan = RatePlan(
        weekend_price=weekend,
        weekly_discount_percent=weekly,
        monthly_discount_percent=monthly,
        cleaning_fee=cleaning,
        extra_guest_fee=extra,
        guests_included=included,
    )
    taxes = [] if percent_tax is None else [Tax(name="T", kind=Tax.Kind.PERCENT, value=percent_tax)]

    result = stay_price(
        listing=listing,
        check_in=MONDAY,
        check_out=MONDAY + timedelta(days=nights),
        guests=guests,
        plan=plan,
        days={MONDAY: RateDay(date=MONDAY, price=Decimal("1.01"))},
        taxes=taxes,
    )

    unit = minor_unit(currency)
    assert result.total == sum(line.amount for line in result.lines)
    assert all(line.amount == line.amount.quantize(unit) for line in result.lines)
    assert result.total >= 0
    assert len(result.nights) == nights
