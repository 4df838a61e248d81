import hashlib
import json
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    DECLINED,
    EXPIRED,
    PENDING,
    Booking,
    BookingRevision,
    IdempotencyKey,
)
from bookings.policies import POLICIES, Refund, refund_compute, refund_full, stay_started
from bookings.selectors import booking_completed_q, booking_status_now
from bookings.transitions import GUEST, HOST, SYSTEM, booking_transition, booking_transition_created
from calendars.models import Hold
from calendars.services import (
    hold_create,
    hold_keep,
    hold_move,
    hold_release,
    is_exclusion_violation,
)
from core.exceptions import (
    BookingConflict,
    BookingNotCancellable,
    BookingNotChangeable,
    BookingRequestExpired,
    BookingTransitionRefused,
    IdempotencyKeyReused,
    NightsTaken,
    NotFound,
    PropertyUnavailable,
)
from core.metrics import (
    BOOKING_CONFLICTS,
    BOOKINGS_CANCELLED,
    BOOKINGS_CREATED,
    IDEMPOTENT_REPLAYS,
)
from core.request_context import request_id_var
from core.stays import stay_shape_errors
from properties.models import Property
from properties.selectors import property_locked
from rates.pricing import (
    StayPrice,
    rate_days_between,
    rate_plan_of,
    stay_price,
    stay_price_errors,
)
from rates.selectors import LISTING as STAY_LISTING_ERROR
from rates.selectors import NIGHTS as STAY_NIGHTS_ERROR
from rates.selectors import stay_errors

STATE_ERRORS = (STAY_LISTING_ERROR, STAY_NIGHTS_ERROR)

logger = logging.getLogger("booking.bookings")


def _log_after_commit(event: str, booking: Booking) -> None:
    fields = {
        "booking_id": booking.pk,
        "property_id": booking.property_id,
        "guest_id": booking.guest_id,
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "total_price": str(booking.total_price),
        # Captured now: the commit callback may run after the request has ended.
        "request_id": request_id_var.get(),
    }
    transaction.on_commit(lambda: logger.info(event, extra=fields))


def _initial_status(listing: Property) -> str:
    """Instant booking confirms at once; otherwise the booking is a request for the host."""
    return CONFIRMED if listing.instant_book else PENDING


def _request_expires_at(*, listing: Property, check_in: date, now: datetime) -> datetime:
    """BOOKING_REQUEST_HOURS from now, but no later than the end of the check-in day in the
    listing's time zone: a request the host has not answered by then can no longer be a stay.
    Always after `now` (a check-in is never before the listing's today), so a request for
    today is still a request, for what is left of the day."""
    day_after = datetime.combine(
        check_in + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(listing.time_zone)
    )
    return min(now + timedelta(hours=settings.BOOKING_REQUEST_HOURS), day_after)


def _hold_nights(
    *, listing: Property, check_in: date, check_out: date, expires_at: datetime | None
) -> Hold:
    """The booking's calendars.Hold (a request's lapses at its deadline). Raises
    BookingConflict naming the taken dates."""
    try:
        return hold_create(
            listing=listing,
            start=check_in,
            end=check_out,
            kind=Hold.Kind.BOOKING,
            expires_at=expires_at,
        )
    except NightsTaken as exc:
        BOOKING_CONFLICTS.inc()
        raise BookingConflict(exc.message) from exc


def _stay_checked_and_priced(
    *, listing: Property, check_in: date, check_out: date, guests: int
) -> StayPrice:
    """rates' one stay check and one price function (issue 15), inside booking_create's lock.
    Raises ValidationError for the request's own fields, PropertyUnavailable when the host has
    closed the listing, BookingConflict when a night is taken, closed or too near another
    stay."""
    plan = rate_plan_of(listing)
    days = rate_days_between(listing=listing, start=check_in, end=check_out)
    errors = stay_errors(
        listing=listing,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        now=timezone.now(),
        plan=plan,
        days=days,
    )
    invalid = {field: messages for field, messages in errors.items() if field not in STATE_ERRORS}
    if invalid:
        raise ValidationError(invalid)
    if STAY_LISTING_ERROR in errors:
        raise PropertyUnavailable()
    if STAY_NIGHTS_ERROR in errors:
        BOOKING_CONFLICTS.inc()
        raise BookingConflict(" ".join(errors[STAY_NIGHTS_ERROR]))
    price = stay_price(
        listing=listing,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        plan=plan,
        days=days,
    )
    too_expensive = stay_price_errors(price)
    if too_expensive:
        raise ValidationError(too_expensive)
    return price


def booking_create(
    *, guest: User, property_id: int, check_in: date, check_out: date, guests: int = 1
) -> Booking:
    """Confirm a stay at today's price, or, when the listing does not book instantly, make a
    pending request that holds the nights until the host answers or it expires. Raises
    ValidationError (bad dates, judged in the listing's own time zone; too many guests; unknown
    or own property), PropertyUnavailable (host closed it) or BookingConflict (dates taken)."""
    errors = stay_shape_errors(check_in=check_in, check_out=check_out)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            # Competing bookings of one property queue on this row lock (PostgreSQL); on SQLite
            # the IMMEDIATE transaction already holds the database's write lock.
            listing = property_locked(property_id=property_id)
            if listing is None:
                raise ValidationError({"property_id": ["No property with this id."]})
            if listing.owner_id == guest.pk:
                raise ValidationError({"property_id": ["You cannot book your own property."]})
            price = _stay_checked_and_priced(
                listing=listing, check_in=check_in, check_out=check_out, guests=guests
            )
            now = timezone.now()
            status = _initial_status(listing)
            expires_at = (
                _request_expires_at(listing=listing, check_in=check_in, now=now)
                if status == PENDING
                else None
            )
            hold = _hold_nights(
                listing=listing, check_in=check_in, check_out=check_out, expires_at=expires_at
            )
            booking = Booking.objects.create(
                property=listing,
                hold=hold,
                guest=guest,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                total_price=price.total,
                currency=price.currency,
                price_lines=price.as_json(),
                status=status,
                expires_at=expires_at,
                cancellation_policy=listing.cancellation_policy,
                policy_check_in=check_in,
            )
            # The new booking's whole history so far, for its answer: nothing to read back
            # (bookings.selectors.booking_created_for_output).
            first = booking_transition_created(booking=booking, actor=guest)
            booking.created_history = [first]  # type: ignore[attr-defined]
            _log_after_commit("booking created", booking)
            if status == CONFIRMED:  # a request counts when the host accepts it
                transaction.on_commit(BOOKINGS_CREATED.inc)
    except IntegrityError as exc:
        # The exclusion constraint caught what the check above could not see (a writer that
        # skipped the lock). Anything else is a bug and surfaces.
        if not is_exclusion_violation(exc):
            raise
        BOOKING_CONFLICTS.inc()
        raise BookingConflict() from exc
    return booking


def _idempotency_window() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def _request_fingerprint(*, property_id: int, check_in: date, check_out: date, guests: int) -> str:
    request = {
        "property_id": property_id,
        "check_in": str(check_in),
        "check_out": str(check_out),
        "guests": guests,
    }
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def booking_create_idempotent(
    *,
    guest: User,
    idempotency_key: str,
    property_id: int,
    check_in: date,
    check_out: date,
    guests: int = 1,
) -> tuple[Booking, bool]:
    """booking_create at most once per (guest, key) within IDEMPOTENCY_KEY_HOURS: a repeat
    returns the first booking and True (replayed). Raises IdempotencyKeyReused if the key came
    with a different request, or whatever booking_create raises (the key is then not spent)."""
    fingerprint = _request_fingerprint(
        property_id=property_id, check_in=check_in, check_out=check_out, guests=guests
    )
    now = timezone.now()
    with transaction.atomic():
        # The unique (user, key) row is the lock: a concurrent request with the same key waits
        # here (PostgreSQL: on the unique index, then the row lock) until the first commits,
        # then finds its booking. Always taken before the property lock, so no deadlock.
        record, created = IdempotencyKey.objects.select_for_update().get_or_create(
            user=guest,
            key=idempotency_key,
            defaults={"request_fingerprint": fingerprint, "created_at": now},
        )
        is_expired = not created and record.created_at <= now - _idempotency_window()
        if not created and not is_expired:
            if record.request_fingerprint != fingerprint:
                raise IdempotencyKeyReused()
            # Set in the transaction that created the row, and deleted with its booking.
            assert record.booking is not None
            IDEMPOTENT_REPLAYS.inc()
            return record.booking, True
        booking = booking_create(
            guest=guest,
            property_id=property_id,
            check_in=check_in,
            check_out=check_out,
            guests=guests,
        )
        record.booking = booking
        record.request_fingerprint = fingerprint
        record.created_at = now
        record.save()
    return booking, False


def idempotency_keys_purge() -> int:
    """Delete Idempotency-Key records past their window (they no longer dedupe); returns how
    many went."""
    cutoff = timezone.now() - _idempotency_window()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted


def _booking_lock(*, booking_id: int, **owned_by) -> Booking | None:
    """The booking, locked, if `owned_by` (guest=... or property__owner=...) matches; None
    otherwise. Lock order: the property row first (the one booking_create and the holds take),
    then the booking, so competing actions on one booking queue and never deadlock."""
    property_id = (
        Booking.objects.filter(pk=booking_id, **owned_by)
        .values_list("property_id", flat=True)
        .first()
    )
    if property_id is None:
        return None
    Property.all_objects.select_for_update().filter(pk=property_id).exists()
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("property", "hold")
        .get(pk=booking_id)
    )


def _refuse_unless_pending(booking: Booking, *, now: datetime) -> None:
    status = booking_status_now(booking, now=now)
    # No hold left: a calendar write found it void (past its deadline) and deleted it.
    if status == EXPIRED or (status == PENDING and booking.hold is None):
        raise BookingRequestExpired()
    if status != PENDING:
        raise BookingTransitionRefused(f"This booking is {status}, not a pending request.")


def booking_accept(*, host: User, booking_id: int, message: str = "") -> Booking:
    """The host accepts a pending request: it becomes a confirmed stay. A repeat answers the
    confirmed booking. Raises NotFound (not the caller's listing), BookingRequestExpired (past
    its deadline) or BookingTransitionRefused (not a pending request)."""
    with transaction.atomic():
        booking = _booking_lock(booking_id=booking_id, property__owner=host)
        if booking is None:
            raise NotFound()
        now = timezone.now()
        if _is_repeat(booking, to_status=CONFIRMED, role=HOST):
            return booking
        _refuse_unless_pending(booking, now=now)
        assert booking.hold is not None  # checked by _refuse_unless_pending
        # The hold no longer lapses: the nights are the guest's.
        hold_keep(hold=booking.hold)
        booking_transition(
            booking=booking, to_status=CONFIRMED, role=HOST, actor=host, now=now, reason=message
        )
        _log_after_commit("booking request accepted", booking)
        transaction.on_commit(BOOKINGS_CREATED.inc)
    return booking


def booking_decline(*, host: User, booking_id: int, message: str = "") -> Booking:
    """The host declines a pending request, freeing its nights. A repeat answers the declined
    booking. Raises NotFound, BookingRequestExpired or BookingTransitionRefused."""
    with transaction.atomic():
        booking = _booking_lock(booking_id=booking_id, property__owner=host)
        if booking is None:
            raise NotFound()
        now = timezone.now()
        if _is_repeat(booking, to_status=DECLINED, role=HOST):
            return booking
        _refuse_unless_pending(booking, now=now)
        booking_transition(
            booking=booking, to_status=DECLINED, role=HOST, actor=host, now=now, reason=message
        )
        _release_nights(booking)
        _log_after_commit("booking request declined", booking)
    return booking


def booking_request_expire(*, booking_id: int, now: datetime | None = None) -> Booking | None:
    """Store a pending request past its deadline (at `now`) as expired; returns it, or None
    when it is no longer a pending request past its deadline (someone answered first)."""
    with transaction.atomic():
        booking = _booking_lock(booking_id=booking_id)
        now = now or timezone.now()
        if booking is None or booking.status != PENDING:
            return None
        if booking.expires_at is None or booking.expires_at > now:
            return None
        booking_transition(
            booking=booking,
            to_status=EXPIRED,
            role=SYSTEM,
            actor=None,
            now=now,
            reason="The host did not answer in time.",
        )
        _release_nights(booking)
    return booking


def booking_requests_expire(*, now: datetime | None = None) -> int:
    """Store every pending request past its deadline as expired (manage.py
    expire_booking_requests); returns how many. Reads already show them expired."""
    now = now or timezone.now()
    lapsed = Booking.objects.filter(status=PENDING, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(booking_request_expire(booking_id=pk, now=now) is not None for pk in lapsed)


def booking_stays_complete() -> int:
    """Store as completed every confirmed stay whose check-out day has come in its listing's
    time zone (manage.py complete_bookings); returns how many. Reads already show them so."""
    done = 0
    for pk in Booking.objects.filter(booking_completed_q()).values_list("pk", flat=True):
        with transaction.atomic():
            booking = _booking_lock(booking_id=pk)
            now = timezone.now()
            if booking is None or booking_status_now(booking, now=now) != COMPLETED:
                continue
            if booking.status != CONFIRMED:
                continue
            booking_transition(
                booking=booking,
                to_status=COMPLETED,
                role=SYSTEM,
                actor=None,
                now=now,
                reason="The check-out day has come.",
            )
            done += 1
    return done


def _is_repeat(booking: Booking, *, to_status: str, role: str) -> bool:
    """True when the booking already made this very transition (by this party): a retried
    request answers the current state instead of an error."""
    if booking.status != to_status:
        return False
    if to_status == CANCELLED:
        return booking.cancelled_by == role
    last = booking.transitions.order_by("-created_at", "-id").first()
    return last is not None and last.actor_role == role


def _release_nights(booking: Booking) -> None:
    """Free the booking's nights (its hold) inside the caller's transaction; a request whose
    hold a calendar write already voided has none left."""
    hold = booking.hold
    if hold is None:
        return
    booking.hold = None
    booking.save(update_fields=["hold"])
    hold_release(hold=hold)


def _booking_lines(booking: Booking) -> list[tuple[str, Decimal]]:
    """The booking's own line items (kind, amount) as stored when it was made or last changed;
    a booking from before line items existed is all nightly amount."""
    if not booking.price_lines:
        return [("nights", booking.total_price)]
    return [(line.kind, line.amount) for line in StayPrice.from_json(booking.price_lines).lines]


def booking_refund_preview(*, booking: Booking, now: datetime | None = None) -> Refund:
    """What a guest's cancellation at `now` would refund (the booking's property loaded):
    a request not yet accepted is refunded in full; a confirmed stay by the listing's policy."""
    if booking.status == PENDING:
        return refund_full(paid=booking.total_price)
    listing = booking.property
    return refund_compute(
        policy=booking.cancellation_policy,
        lines=_booking_lines(booking),
        paid=booking.total_price,
        currency=booking.currency,
        # The earliest check-in the booking has had: moving a stay later does not restart
        # the policy's deadlines.
        check_in=min(booking.policy_check_in or booking.check_in, booking.check_in),
        check_in_time=listing.check_in_from,
        time_zone=listing.time_zone,
        now=now or timezone.now(),
    )


def booking_cancellation_preview(*, booking: Booking, now: datetime | None = None) -> dict:
    """What the guest's cancellation at `now` would give: policy, terms, refund, fee, the next
    deadline, and whether cancelling is still possible. Changes nothing."""
    now = now or timezone.now()
    listing = booking.property
    refund = booking_refund_preview(booking=booking, now=now)
    if booking.status == CANCELLED and booking.refund_amount is not None:
        # Cancelled: what the cancellation stored, not what one now would give.
        assert booking.cancellation_fee is not None  # stored together (a check constraint)
        paid = booking.total_price
        refund = Refund(
            refund_amount=booking.refund_amount,
            cancellation_fee=booking.cancellation_fee,
            next_deadline=None,
            share=booking.refund_amount / paid if paid else Decimal(1),
        )
    return {
        "booking_id": booking.pk,
        "is_cancellable": booking_status_now(booking, now=now) in (PENDING, CONFIRMED)
        and not stay_started(check_in=booking.check_in, time_zone=listing.time_zone, now=now),
        "policy": booking.cancellation_policy,
        "policy_terms": POLICIES[booking.cancellation_policy].summary,
        "total_price": booking.total_price,
        "refund_amount": refund.refund_amount,
        "cancellation_fee": refund.cancellation_fee,
        "currency": booking.currency,
        "refund_share": refund.share,
        "next_deadline": refund.next_deadline,
    }


def _cancel(
    *, booking: Booking, refund: Refund, by: str, actor: User, now: datetime, reason: str
) -> None:
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.refund_amount = refund.refund_amount
    booking.cancellation_fee = refund.cancellation_fee
    booking_transition(
        booking=booking,
        to_status=CANCELLED,
        role=by,
        actor=actor,
        now=now,
        reason=reason,
        update_fields=("cancelled_at", "cancelled_by", "refund_amount", "cancellation_fee"),
    )
    _release_nights(booking)
    _log_after_commit("booking cancelled", booking)
    transaction.on_commit(BOOKINGS_CANCELLED.inc)


def _refuse_unless_cancellable(booking: Booking, *, now: datetime) -> None:
    status = booking_status_now(booking, now=now)
    if status not in (PENDING, CONFIRMED):
        raise BookingNotCancellable(f"This booking is {status}; it can no longer be cancelled.")
    if stay_started(check_in=booking.check_in, time_zone=booking.property.time_zone, now=now):
        raise BookingNotCancellable(
            "The check-in day has come; this booking can no longer be cancelled."
        )


def booking_cancel(*, guest: User, booking_id: int, reason: str = "") -> Booking:
    """The guest cancels their own booking or withdraws their request, freeing its nights and
    storing the refund (the listing's cancellation policy, at this moment in the listing's time
    zone; a request is refunded in full). A repeat answers the cancelled booking. Raises
    NotFound for anyone else's booking (its existence is not revealed) and BookingNotCancellable
    once it is no longer pending or confirmed or its check-in day has come."""
    with transaction.atomic():
        booking = _booking_lock(booking_id=booking_id, guest=guest)
        if booking is None:
            raise NotFound()
        if _is_repeat(booking, to_status=CANCELLED, role=GUEST):
            return booking
        now = timezone.now()
        _refuse_unless_cancellable(booking, now=now)
        refund = booking_refund_preview(booking=booking, now=now)
        _cancel(booking=booking, refund=refund, by=GUEST, actor=guest, now=now, reason=reason)
    return booking


def booking_host_cancel(*, host: User, booking_id: int, reason: str) -> Booking:
    """The host cancels a confirmed stay at their listing, refunding the guest in full and
    freeing the nights. A repeat answers the cancelled booking. Raises ValidationError (no
    reason), NotFound (not the caller's listing), BookingNotCancellable (not confirmed, or its
    check-in day has come)."""
    if not reason.strip():
        raise ValidationError({"reason": ["Tell the guest why their stay is cancelled."]})
    with transaction.atomic():
        booking = _booking_lock(booking_id=booking_id, property__owner=host)
        if booking is None:
            raise NotFound()
        if _is_repeat(booking, to_status=CANCELLED, role=HOST):
            return booking
        now = timezone.now()
        _refuse_unless_cancellable(booking, now=now)
        if booking.status == PENDING:
            raise BookingNotCancellable("This is a request: decline it instead.")
        refund = refund_full(paid=booking.total_price)
        _cancel(booking=booking, refund=refund, by=HOST, actor=host, now=now, reason=reason)
    return booking


def booking_change(
    *,
    guest: User,
    booking_id: int,
    check_in: date | None = None,
    check_out: date | None = None,
    guests: int | None = None,
) -> Booking:
    """The guest changes the dates or guest count of their confirmed, not yet started stay:
    re-checked against the listing's rules and other bookings (its own nights excluded),
    re-priced at today's rules, and recorded as a BookingRevision; all or nothing. Raises
    NotFound, BookingNotChangeable (not confirmed, started, or the listing's rules refuse the
    new stay, naming each reason) or BookingConflict (the new nights are taken)."""
    try:
        with transaction.atomic():
            booking = _booking_lock(booking_id=booking_id, guest=guest)
            if booking is None:
                raise NotFound()
            now = timezone.now()
            listing = booking.property
            status = booking_status_now(booking, now=now)
            if status != CONFIRMED:
                raise BookingNotChangeable(
                    f"This booking is {status}; only a confirmed stay can be changed."
                )
            if stay_started(check_in=booking.check_in, time_zone=listing.time_zone, now=now):
                raise BookingNotChangeable("The stay has started; it can no longer be changed.")
            new_check_in = check_in or booking.check_in
            new_check_out = check_out or booking.check_out
            new_guests = guests or booking.guests
            old = (booking.check_in, booking.check_out, booking.guests)
            if (new_check_in, new_check_out, new_guests) == old:
                return booking
            # Today's rules for the new stay (the listing's current plan, rate days, taxes),
            # read once for the check and the price.
            plan = rate_plan_of(listing)
            days = rate_days_between(listing=listing, start=new_check_in, end=new_check_out)
            errors = stay_errors(
                listing=listing,
                check_in=new_check_in,
                check_out=new_check_out,
                guests=new_guests,
                now=now,
                exclude_hold=booking.hold,
                plan=plan,
                days=days,
            )
            if new_check_in == booking.check_in:
                # The same arrival: the rules about arriving (notice, window, closed to arrival)
                # and the listing being open for new bookings judged it when it was booked.
                errors.pop("check_in", None)
                errors.pop(STAY_LISTING_ERROR, None)
            if STAY_NIGHTS_ERROR in errors:
                BOOKING_CONFLICTS.inc()
                raise BookingConflict(" ".join(errors[STAY_NIGHTS_ERROR]))
            if errors:
                raise BookingNotChangeable(
                    " ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
                )
            if booking.hold is None:  # a stay from before the holds existed
                booking.hold = _hold_nights(
                    listing=listing,
                    check_in=new_check_in,
                    check_out=new_check_out,
                    expires_at=None,
                )
                booking.save(update_fields=["hold"])
            else:
                try:
                    # One UPDATE: the old nights stay held until the new ones are secured.
                    hold_move(hold=booking.hold, start=new_check_in, end=new_check_out)
                except NightsTaken as exc:
                    BOOKING_CONFLICTS.inc()
                    raise BookingConflict(exc.message) from exc
            new_price = stay_price(
                listing=listing,
                check_in=new_check_in,
                check_out=new_check_out,
                guests=new_guests,
                plan=plan,
                days=days,
            )
            too_expensive = stay_price_errors(new_price)
            if too_expensive:
                raise BookingNotChangeable(
                    " ".join(f"{field}: {' '.join(m)}" for field, m in too_expensive.items())
                )
            BookingRevision.objects.create(
                booking=booking,
                changed_by=guest,
                old_check_in=booking.check_in,
                old_check_out=booking.check_out,
                old_guests=booking.guests,
                old_total_price=booking.total_price,
                old_price_lines=booking.price_lines,
                new_check_in=new_check_in,
                new_check_out=new_check_out,
                new_guests=new_guests,
                new_total_price=new_price.total,
                new_price_lines=new_price.as_json(),
                created_at=now,
            )
            booking.check_in, booking.check_out, booking.guests = (
                new_check_in,
                new_check_out,
                new_guests,
            )
            # The booking carries its current bill; the revision keeps the one it replaced.
            booking.total_price, booking.price_lines = new_price.total, new_price.as_json()
            booking.policy_check_in = min(booking.policy_check_in or old[0], new_check_in)
            booking.save(
                update_fields=[
                    "check_in",
                    "check_out",
                    "guests",
                    "total_price",
                    "price_lines",
                    "policy_check_in",
                ]
            )
            _log_after_commit("booking changed", booking)
    except IntegrityError as exc:
        if not is_exclusion_violation(exc):
            raise
        BOOKING_CONFLICTS.inc()
        raise BookingConflict() from exc
    return booking
