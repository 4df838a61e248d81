"""Cancellation policies at every boundary: one second before and after each deadline, in
listing time zones on both sides of UTC, with the clock pinned; and a property-based check
that the refund and the fee always add up to what was paid."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.policies import POLICIES, Refund, refund_compute
from bookings.services import (
    booking_cancel,
    booking_cancellation_preview,
    booking_change,
    booking_host_cancel,
)
from bookings.tests.factories import BookingFactory
from conftest import client_for
from core.exceptions import BookingNotCancellable

CHECK_IN = date(2030, 7, 20)  # three nights at 100: 300 paid, the nightly amount all of it
SECOND = timedelta(seconds=1)
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"  # UTC+14 and UTC-11, no DST


def local(zone: str, day: int, hour: int = 15) -> datetime:
    """July `day`, `hour`:00 in `zone` (15:00 is the listings' check-in time)."""
    return datetime(2030, 7, day, hour, tzinfo=ZoneInfo(zone))


# (policy, the deadline as local wall time, refund just before, refund just after)
DEADLINES = [
    ("moderate", 15, Decimal(300), Decimal(150)),  # 5 days
    ("strict", 6, Decimal(300), Decimal(150)),  # 14 days
    ("strict", 13, Decimal(150), Decimal(0)),  # 7 days
]
BOUNDARIES = [
    pytest.param(zone, policy, local(zone, day) + offset, refund, id=f"{policy}-{day}-{zone}{sign}")
    for zone in (EAST, WEST)
    for policy, day, before, after in DEADLINES
    for offset, refund, sign in ((-SECOND, before, "-1s"), (SECOND, after, "+1s"))
]


def booking_for(zone: str, policy: str):
    return BookingFactory.create(
        property__time_zone=zone,
        property__cancellation_policy=policy,
        property__price_per_night=Decimal(100),
        check_in=CHECK_IN,
        check_out=CHECK_IN + timedelta(days=3),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("zone", "policy", "moment", "refund"), BOUNDARIES)
def test_the_refund_changes_exactly_at_each_deadline(zone, policy, moment, refund):
    booking = booking_for(zone, policy)

    with time_machine.travel(moment, tick=False):
        preview = booking_cancellation_preview(booking=booking)
        cancelled = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (refund, 300 - refund)
    assert (preview["refund_amount"], preview["cancellation_fee"]) == (refund, 300 - refund)
    cancelled.refresh_from_db()
    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (refund, 300 - refund)


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [EAST, WEST])
def test_cancelling_stops_exactly_when_the_check_in_day_begins_locally(zone):
    last_moment = booking_for(zone, "strict")
    free_until_then = booking_for(zone, "flexible")
    too_late = booking_for(zone, "flexible")
    midnight = local(zone, 20, hour=0)

    with time_machine.travel(midnight - SECOND, tick=False):
        cancelled = booking_cancel(guest=last_moment.guest, booking_id=last_moment.pk)
        free = booking_cancel(guest=free_until_then.guest, booking_id=free_until_then.pk)
    with time_machine.travel(midnight + SECOND, tick=False):
        preview = booking_cancellation_preview(booking=too_late)
        with pytest.raises(BookingNotCancellable, match="check-in day"):
            booking_cancel(guest=too_late.guest, booking_id=too_late.pk)

    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (Decimal(0), Decimal(300))
    # flexible: free to the last second before the check-in day, as before policies existed
    assert (free.refund_amount, free.cancellation_fee) == (Decimal(300), Decimal(0))
    assert preview["is_cancellable"] is False
    too_late.refresh_from_db()
    assert too_late.status == "confirmed"


@pytest.mark.django_db
def test_the_preview_api_names_the_policy_and_the_next_deadline():
    booking = booking_for(WEST, "moderate")

    with time_machine.travel(local(WEST, 1), tick=False):
        response = client_for(booking.guest).get(f"/api/bookings/{booking.pk}/cancellation/")

    assert response.status_code == 200
    assert response.json() == {
        "booking_id": booking.pk,
        "is_cancellable": True,
        "policy": "moderate",
        "policy_terms": POLICIES["moderate"].summary,
        "total_price": 300.0,
        "refund_amount": 300.0,
        "cancellation_fee": 0.0,
        "currency": "USD",
        "refund_share": 1.0,
        # 15:00 on 15 July at UTC-11
        "next_deadline": "2030-07-16T02:00:00Z",
    }


def test_the_cleaning_fee_and_taxes_follow_the_terms():
    lines = [
        ("nights", Decimal("300.00")),
        ("weekly_discount", Decimal("-30.00")),
        ("cleaning_fee", Decimal("50.00")),
        ("tax", Decimal("32.00")),  # 10% of 320
    ]

    def at(now: datetime) -> Refund:
        return refund_compute(
            policy="strict",
            lines=lines,
            paid=Decimal("352.00"),
            currency="USD",
            check_in=CHECK_IN,
            check_in_time=time(15),
            time_zone="UTC",
            now=now,
        )

    half = at(datetime(2030, 7, 10, tzinfo=UTC))
    none = at(datetime(2030, 7, 19, tzinfo=UTC))
    started = at(datetime(2030, 7, 20, tzinfo=UTC))

    # 50% of 270 nightly + the 50 cleaning fee, and tax on 185/320 of 32.
    assert (half.refund_amount, half.cancellation_fee) == (Decimal("203.50"), Decimal("148.50"))
    assert none.refund_amount == Decimal("55.00")  # cleaning fee and its tax
    assert started.refund_amount == Decimal(0)


money = st.decimals(min_value=0, max_value=100_000, places=2)


@settings(max_examples=300, deadline=None)
@given(
    policy=st.sampled_from(sorted(POLICIES)),
    nights=money,
    discount_share=st.decimals(min_value=0, max_value=1, places=3),
    cleaning=money,
    tax=money,
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    zone=st.sampled_from([EAST, WEST, "UTC", "Europe/Paris"]),
    offset=st.integers(min_value=-40 * 86400, max_value=2 * 86400),
)
def test_refund_plus_fee_is_what_was_paid_and_neither_is_negative(
    policy, nights, discount_share, cleaning, tax, currency, zone, offset
):
    discount = -(nights * discount_share).quantize(Decimal("0.01"))
    lines = [("nights", nights), ("weekly_discount", discount), ("cleaning_fee", cleaning)]
    lines.append(("tax", tax))
    paid = sum((amount for _, amount in lines), Decimal(0))
    check_in_moment = datetime.combine(CHECK_IN, time(15), tzinfo=ZoneInfo(zone))

    refund = refund_compute(
        policy=policy,
        lines=lines,
        paid=paid,
        currency=currency,
        check_in=CHECK_IN,
        check_in_time=time(15),
        time_zone=zone,
        now=check_in_moment + timedelta(seconds=offset),
    )

    assert refund.refund_amount + refund.cancellation_fee == paid
    assert refund.refund_amount >= 0
    assert refund.cancellation_fee >= 0


@pytest.mark.django_db
def test_the_refund_is_computed_from_the_booking_s_own_stored_lines():
    from accounts.tests.factories import UserFactory
    from bookings.services import booking_create
    from properties.tests.factories import PropertyFactory
    from rates.tests.factories import RatePlanFactory

    listing = PropertyFactory.create(
        price_per_night=Decimal(100), cancellation_policy="moderate", time_zone=WEST
    )
    plan = RatePlanFactory.create(property=listing, cleaning_fee=Decimal(40))
    with time_machine.travel(local(WEST, 1), tick=False):
        booking = booking_create(
            guest=UserFactory.create(),
            property_id=listing.pk,
            check_in=CHECK_IN,
            check_out=CHECK_IN + timedelta(days=3),
        )
    # The host's later changes do not touch what the guest paid or gets back.
    plan.cleaning_fee = Decimal(400)
    plan.save()
    listing.price_per_night = Decimal(999)
    listing.save()

    with time_machine.travel(local(WEST, 18), tick=False):  # past moderate's 5-day deadline
        cancelled = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert booking.total_price == Decimal(340)
    # 50% of the 300 nightly amount, and the whole 40 cleaning fee (the stay has not started).
    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (Decimal(190), Decimal(150))


@pytest.mark.django_db
def test_the_policy_is_the_one_booked_under_whatever_the_host_changes_later():
    booking = booking_for(WEST, "flexible")
    booking.property.cancellation_policy = "strict"
    booking.property.save()

    with time_machine.travel(local(WEST, 18), tick=False):  # 2 days before: strict gives 0
        cancelled = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert (cancelled.cancellation_policy, cancelled.refund_amount) == ("flexible", Decimal(300))


@pytest.mark.django_db
def test_moving_a_stay_later_does_not_restart_the_deadlines():
    booking = booking_for(WEST, "strict")  # check-in 20 July: nothing back from 13 July on

    with time_machine.travel(local(WEST, 15), tick=False):
        moved = booking_change(
            guest=booking.guest,
            booking_id=booking.pk,
            check_in=date(2030, 9, 20),
            check_out=date(2030, 9, 23),
        )
        preview = booking_cancellation_preview(booking=moved)
        cancelled = booking_cancel(guest=booking.guest, booking_id=booking.pk)

    assert (moved.check_in, moved.policy_check_in) == (date(2030, 9, 20), CHECK_IN)
    assert preview["refund_amount"] == Decimal(0)
    assert cancelled.refund_amount == Decimal(0)


@pytest.mark.django_db
def test_the_preview_of_a_cancelled_booking_shows_what_was_stored():
    booking = booking_for(WEST, "strict")

    with time_machine.travel(local(WEST, 18), tick=False):
        cancelled = booking_host_cancel(
            host=booking.property.owner, booking_id=booking.pk, reason="Flooded"
        )
        preview = booking_cancellation_preview(booking=cancelled)

    assert (preview["refund_amount"], preview["cancellation_fee"]) == (Decimal(300), Decimal(0))
    assert preview["is_cancellable"] is False
