"""The one price function: what a stay costs, line by line. The quote endpoint and
booking_create both call stay_price, so a quote and the booking it leads to agree.

Money rules: Decimal throughout; each line is rounded once, ROUND_HALF_UP, to the currency's
minor unit (ISO 4217 exponent, capped at 2 because the columns hold cents); the total is the sum
of the rounded lines, never rounded again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from iso4217 import Currency

from core.compiled_queries import CompiledQuery, model_columns, model_instances
from properties.models import Property
from rates.models import RateDay, RatePlan, Tax

HUNDRED = Decimal(100)
WEEKLY_NIGHTS = 7
MONTHLY_NIGHTS = 28
# The most one booking can cost: what its total_price column (12 digits, 2 decimals) holds.
# Rules within their own bounds can price a long stay for many guests past it (extra-guest
# fees and per-guest taxes times 365 nights); such a stay is refused, never truncated.
MAX_STAY_TOTAL = Decimal("9999999999.99")


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount a line may hold in `currency`: 0.01 for USD, 1 for JPY (ISO 4217's
    exponent, capped at 2 as the columns keep cents)."""
    exponent = Currency(currency).exponent
    places = min(2, exponent if exponent is not None else 2)
    return Decimal(1).scaleb(-places)


def money_round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Night:
    date: date
    price: Decimal


@dataclass(frozen=True)
class Line:
    """One line of a bill: `amount` = `quantity` x `unit_amount`, rounded (discounts are
    negative)."""

    kind: str  # nights, weekly_discount, monthly_discount, cleaning_fee, extra_guests, tax
    label: str
    quantity: int
    unit_amount: Decimal
    amount: Decimal


@dataclass(frozen=True)
class StayPrice:
    currency: str
    nights: list[Night] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def as_json(self) -> dict:
        """Amounts as strings (exact), dates as ISO strings: what Booking.price_lines keeps."""
        return {
            "currency": self.currency,
            "total": str(self.total),
            "nights": [{"date": n.date.isoformat(), "price": str(n.price)} for n in self.nights],
            "lines": [
                {
                    "kind": line.kind,
                    "label": line.label,
                    "quantity": line.quantity,
                    "unit_amount": str(line.unit_amount),
                    "amount": str(line.amount),
                }
                for line in self.lines
            ],
        }

    @classmethod
    def from_json(cls, data: dict) -> StayPrice:
        return cls(
            currency=data["currency"],
            nights=[
                Night(date=date.fromisoformat(n["date"]), price=Decimal(n["price"]))
                for n in data["nights"]
            ],
            lines=[
                Line(
                    kind=line["kind"],
                    label=line["label"],
                    quantity=line["quantity"],
                    unit_amount=Decimal(line["unit_amount"]),
                    amount=Decimal(line["amount"]),
                )
                for line in data["lines"]
            ],
        )


# The reads of every quote and booking, each compiled once (core.compiled_queries).
_PLAN_COLUMNS, _DAY_COLUMNS, _TAX_COLUMNS = (
    model_columns(RatePlan),
    model_columns(RateDay),
    model_columns(Tax),
)
_PLAN = CompiledQuery(
    lambda property_id: RatePlan.objects.filter(property_id=property_id).values(*_PLAN_COLUMNS),
    "property_id",
)
_DAYS = CompiledQuery(
    lambda property_id, start, end: RateDay.objects.filter(
        property_id=property_id, date__gte=start, date__lte=end
    ).values(*_DAY_COLUMNS),
    "property_id",
    "start",
    "end",
)
_TAXES = CompiledQuery(
    lambda property_id: (
        Tax.objects.filter(property_id=property_id).order_by("id").values(*_TAX_COLUMNS)
    ),
    "property_id",
)


def rate_plan_of(listing: Property) -> RatePlan:
    """The listing's plan, or the defaults (unsaved) when it has none: one query."""
    plans = model_instances(RatePlan, _PLAN.rows(property_id=listing.pk), _PLAN_COLUMNS)
    return plans[0] if plans else RatePlan(property_id=listing.pk)


def rate_days_between(*, listing: Property, start: date, end: date) -> dict[date, RateDay]:
    """The listing's overrides for the dates [start, end], by date: one query."""
    rows = _DAYS.rows(property_id=listing.pk, start=start, end=end)
    return {day.date: day for day in model_instances(RateDay, rows, _DAY_COLUMNS)}


def rate_taxes_of(listing: Property) -> list[Tax]:
    """The listing's taxes, oldest first: one query."""
    return model_instances(Tax, _TAXES.rows(property_id=listing.pk), _TAX_COLUMNS)


def night_price(*, listing: Property, plan: RatePlan, day: RateDay | None, night: date) -> Decimal:
    """A night's price: the date's own price, else the weekend price on the plan's weekend
    weekdays, else the listing's price_per_night."""
    if day is not None and day.price is not None:
        return day.price
    if plan.weekend_price is not None and plan.weekend_days & (1 << night.weekday()):
        return plan.weekend_price
    return listing.price_per_night


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def stay_price(
    *,
    listing: Property,
    check_in: date,
    check_out: date,
    guests: int,
    plan: RatePlan | None = None,
    days: dict[date, RateDay] | None = None,
    taxes: list[Tax] | None = None,
) -> StayPrice:
    """What [check_in, check_out) for `guests` costs at `listing` under its current rules, as
    lines (it does not check that the stay is allowed: rates.selectors.stay_errors does).
    Reads the plan, the overrides and the taxes unless given (three queries at most)."""
    currency = listing.currency
    if plan is None:
        plan = rate_plan_of(listing)
    if days is None:
        days = rate_days_between(listing=listing, start=check_in, end=check_out)
    if taxes is None:
        taxes = rate_taxes_of(listing)
    count = (check_out - check_in).days
    nights = [
        Night(
            date=night,
            price=night_price(listing=listing, plan=plan, day=days.get(night), night=night),
        )
        for night in (check_in + timedelta(days=offset) for offset in range(count))
    ]

    def line(kind: str, label: str, quantity: int, unit: Decimal, raw: Decimal) -> Line:
        return Line(kind, label, quantity, unit, money_round(raw, currency))

    lines: list[Line] = []
    # One nights line per price, in the order the prices first appear: each is exactly
    # quantity x price.
    by_price: dict[Decimal, int] = {}
    for night in nights:
        by_price[night.price] = by_price.get(night.price, 0) + 1
    for price, quantity in by_price.items():
        label = f"{quantity} night{'s' if quantity != 1 else ''} at {price}"
        lines.append(line("nights", label, quantity, price, price * quantity))
    nights_total = sum((item.amount for item in lines), Decimal(0))

    # From 28 nights the monthly discount replaces the weekly one (the weekly one still applies
    # when no monthly discount is set).
    discount_kind, percent = None, Decimal(0)
    if count >= MONTHLY_NIGHTS and plan.monthly_discount_percent > 0:
        discount_kind, percent = "monthly_discount", plan.monthly_discount_percent
    elif count >= WEEKLY_NIGHTS and plan.weekly_discount_percent > 0:
        discount_kind, percent = "weekly_discount", plan.weekly_discount_percent
    if discount_kind is not None:
        amount = money_round(-nights_total * percent / HUNDRED, currency)
        label = f"{'Monthly' if discount_kind == 'monthly_discount' else 'Weekly'} discount"
        lines.append(Line(discount_kind, f"{label} ({_percent(percent)})", 1, amount, amount))

    if plan.cleaning_fee > 0:
        lines.append(line("cleaning_fee", "Cleaning fee", 1, plan.cleaning_fee, plan.cleaning_fee))
    extra = max(0, guests - plan.guests_included)
    if extra and plan.extra_guest_fee > 0:
        quantity = extra * count
        lines.append(
            line(
                "extra_guests",
                f"{extra} extra guest{'s' if extra != 1 else ''} x {count} nights",
                quantity,
                plan.extra_guest_fee,
                plan.extra_guest_fee * quantity,
            )
        )

    # Taxes are exclusive of the prices; a percentage applies to the subtotal of every line
    # above (nights, discount, fees), never to another tax.
    subtotal = sum((item.amount for item in lines), Decimal(0))
    for tax in taxes:
        if tax.kind == Tax.Kind.PERCENT:
            amount = money_round(subtotal * tax.value / HUNDRED, currency)
            lines.append(Line("tax", f"{tax.name} ({_percent(tax.value)})", 1, amount, amount))
        else:
            quantity = guests * count
            lines.append(
                line(
                    "tax",
                    f"{tax.name} ({guests} guests x {count} nights)",
                    quantity,
                    tax.value,
                    tax.value * quantity,
                )
            )
    return StayPrice(currency=currency, nights=nights, lines=lines)


def stay_price_errors(price: StayPrice) -> dict[str, list[str]]:
    """The reason a priced stay cannot be booked: a total above MAX_STAY_TOTAL."""
    if price.total <= MAX_STAY_TOTAL:
        return {}
    return {
        "check_out": [
            f"This stay would cost {price.total} {price.currency}, more than one booking can "
            f"hold ({MAX_STAY_TOTAL}); book fewer nights or guests."
        ]
    }
