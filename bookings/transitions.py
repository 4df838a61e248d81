"""The one place a booking changes state: the table of legal transitions, and the function that
applies one and records it (who, when, from, to, why). Services lock the booking (after its
property) and call booking_transition; nothing else writes Booking.status."""

from datetime import datetime

from accounts.models import User
from bookings.models import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    PENDING,
    Booking,
    BookingTransition,
)
from core.exceptions import BookingTransitionRefused

GUEST = BookingTransition.Actor.GUEST
HOST = BookingTransition.Actor.HOST
SYSTEM = BookingTransition.Actor.SYSTEM

# (from, to) → who may make it. "" is a booking's creation. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    ("", CONFIRMED): frozenset({GUEST}),  # instant booking
    ("", PENDING): frozenset({GUEST}),  # request to book
    (PENDING, CONFIRMED): frozenset({HOST}),  # accept
    (PENDING, DECLINED): frozenset({HOST}),  # decline
    (PENDING, EXPIRED): frozenset({SYSTEM}),  # the host did not answer by expires_at
    (PENDING, CANCELLED): frozenset({GUEST}),  # the guest withdraws the request
    (CONFIRMED, CANCELLED): frozenset({GUEST, HOST}),
    (CONFIRMED, COMPLETED): frozenset({SYSTEM}),  # the check-out day has come
}

# The same transitions as prose, for the schema and the docs.
TRANSITIONS_TEXT = (
    "(new) → confirmed (instant booking) or pending (request to book); "
    "pending → confirmed (host accepts), declined (host declines), expired (no answer by "
    "`expires_at`), cancelled (guest withdraws); confirmed → cancelled (guest or host), "
    "completed (check-out day has come in the listing's time zone). declined, expired, "
    "cancelled and completed are final."
)


def booking_transition(
    *,
    booking: Booking,
    to_status: str,
    role: str,
    actor: User | None,
    now: datetime,
    reason: str = "",
    update_fields: tuple[str, ...] = (),
) -> BookingTransition:
    """Move a locked booking to `to_status` and record it. Raises BookingTransitionRefused
    when the table has no such transition for `role`. `update_fields` names the other fields the
    caller set on the booking for the new state (cancellation amounts, ...)."""
    from_status = booking.status
    if role not in TRANSITIONS.get((from_status, to_status), frozenset()):
        raise BookingTransitionRefused(
            f"A {from_status} booking cannot become {to_status} (by the {role})."
        )
    booking.status = to_status
    if to_status == CONFIRMED:
        booking.expires_at = None
    booking.save(update_fields=["status", "expires_at", *update_fields])
    return BookingTransition.objects.create(
        booking=booking,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_role=role,
        reason=reason,
        created_at=now,
    )


def booking_transition_created(*, booking: Booking, actor: User) -> BookingTransition:
    """Record a new booking's first state (its creation) as the start of its history."""
    if GUEST not in TRANSITIONS.get(("", booking.status), frozenset()):
        raise BookingTransitionRefused(f"A booking cannot be created {booking.status}.")
    return BookingTransition.objects.create(
        booking=booking,
        from_status="",
        to_status=booking.status,
        actor=actor,
        actor_role=GUEST,
        created_at=booking.created_at,
    )
