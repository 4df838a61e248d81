"""Cancellation policies: what a guest's cancellation refunds, computed from the booking's own
line items and the moment of cancellation in the listing's time zone. Pure functions, no
database: the services pass the rows in.

The exact terms (also in docs/booking-lifecycle.md). A deadline is "N days before check-in":
the listing's check-in time (`check_in_from`, local) on the date N days before the check-in
date, in the listing's time zone. Cancelling *before* a deadline (strictly earlier) gets that
tier; at the deadline or later the next tier applies.

- flexible (the default): full refund until the check-in day begins (local midnight), which is
  when guests can no longer cancel: cancelling is free, as it was before policies existed.
- moderate: full refund until 5 days before check-in; after that 50% of the nightly amount.
- strict: full refund until 14 days before check-in; 50% of the nightly amount until 7 days
  before; after that nothing of the nightly amount.

The nightly amount is every line but the cleaning fee and taxes (nights, discounts, extra
guests). The cleaning fee is refunded in full while the stay has not started (before the
check-in date begins locally), and taxes in the same proportion as the refunded share of the
rest. The refund is rounded once per part to the currency's minor unit (ROUND_HALF_UP); the
cancellation fee is the amount paid minus the refund, so refund + fee == amount paid, both
never negative. A host's cancellation, and a guest withdrawing a request the host has not
accepted, refund everything."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from properties.models import CancellationPolicy
from rates.pricing import money_round

ZERO = Decimal(0)
HALF = Decimal("0.5")


@dataclass(frozen=True)
class Tier:
    """Cancelling strictly before `days_before` days ahead of check-in refunds `share` of the
    nightly amount."""

    days_before: int
    share: Decimal
    # The deadline is the start of that day (local midnight), not the check-in time.
    at_day_start: bool = False


@dataclass(frozen=True)
class Policy:
    tiers: tuple[Tier, ...]  # from the earliest deadline (largest days_before) to the last
    share_after: Decimal  # after the last deadline
    summary: str


POLICIES: dict[str, Policy] = {
    CancellationPolicy.FLEXIBLE: Policy(
        # After the check-in day begins a guest can no longer cancel: the share after is moot.
        tiers=(Tier(0, Decimal(1), at_day_start=True),),
        share_after=ZERO,
        summary="Full refund until the check-in day begins in the listing's time zone (guests "
        "cannot cancel after that).",
    ),
    CancellationPolicy.MODERATE: Policy(
        tiers=(Tier(5, Decimal(1)),),
        share_after=HALF,
        summary="Full refund until 5 days before the local check-in time; after that 50% of "
        "the nightly amount. The cleaning fee is refunded until the stay starts.",
    ),
    CancellationPolicy.STRICT: Policy(
        tiers=(Tier(14, Decimal(1)), Tier(7, HALF)),
        share_after=ZERO,
        summary="Full refund until 14 days before the local check-in time; 50% of the nightly "
        "amount until 7 days before; nothing of it after that. The cleaning fee is refunded "
        "until the stay starts.",
    ),
}

# Line kinds (rates.pricing) that are not part of the nightly amount.
CLEANING_FEE = "cleaning_fee"
TAX = "tax"


@dataclass(frozen=True)
class Refund:
    refund_amount: Decimal
    cancellation_fee: Decimal
    # The next deadline after `now` (None past the last) and the share it ends.
    next_deadline: datetime | None
    share: Decimal


def deadline(*, check_in: date, check_in_time: time, time_zone: str, days_before: int) -> datetime:
    """The instant `days_before` days before check-in: the local check-in time that day (pass
    midnight for the start of the day)."""
    return datetime.combine(
        check_in - timedelta(days=days_before), check_in_time, tzinfo=ZoneInfo(time_zone)
    )


def stay_started(*, check_in: date, time_zone: str, now: datetime) -> bool:
    """True once the check-in date has begun in the listing's time zone."""
    return now.astimezone(ZoneInfo(time_zone)).date() >= check_in


def refund_full(*, paid: Decimal) -> Refund:
    return Refund(refund_amount=paid, cancellation_fee=ZERO, next_deadline=None, share=Decimal(1))


def refund_compute(
    *,
    policy: str,
    lines: list[tuple[str, Decimal]],
    paid: Decimal,
    currency: str,
    check_in: date,
    check_in_time: time,
    time_zone: str,
    now: datetime,
) -> Refund:
    """What a guest's cancellation at `now` refunds under `policy`, from the booking's line
    items `(kind, amount)` whose sum is `paid`."""
    terms = POLICIES[policy]
    share, next_deadline = terms.share_after, None
    for tier in reversed(terms.tiers):  # the latest deadline first
        at = deadline(
            check_in=check_in,
            check_in_time=time(0) if tier.at_day_start else check_in_time,
            time_zone=time_zone,
            days_before=tier.days_before,
        )
        if now < at:
            share, next_deadline = tier.share, at
    nightly = sum((amount for kind, amount in lines if kind not in (CLEANING_FEE, TAX)), ZERO)
    cleaning = sum((amount for kind, amount in lines if kind == CLEANING_FEE), ZERO)
    tax = sum((amount for kind, amount in lines if kind == TAX), ZERO)
    refund_nightly = money_round(nightly * share, currency)
    started = stay_started(check_in=check_in, time_zone=time_zone, now=now)
    refund_cleaning = ZERO if started else cleaning
    base = nightly + cleaning
    refund_tax = (
        money_round(tax * (refund_nightly + refund_cleaning) / base, currency) if base else tax
    )
    # Bounded by what was paid, so a negative line (a discount) can never make either side
    # negative.
    refund = min(max(refund_nightly + refund_cleaning + refund_tax, ZERO), paid)
    return Refund(
        refund_amount=refund,
        cancellation_fee=paid - refund,
        next_deadline=next_deadline,
        share=share,
    )
