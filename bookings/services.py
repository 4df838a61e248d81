import hashlib
import json
import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, IdempotencyKey
from calendars.models import Hold
from calendars.services import hold_create, hold_release, is_exclusion_violation
from core.exceptions import (
    BookingConflict,
    BookingNotCancellable,
    IdempotencyKeyReused,
    NightsTaken,
    NotFound,
    PropertyUnavailable,
)
from core.local_time import local_today
from core.metrics import (
    BOOKING_CONFLICTS,
    BOOKINGS_CANCELLED,
    BOOKINGS_CREATED,
    IDEMPOTENT_REPLAYS,
)
from core.request_context import request_id_var
from core.stays import stay_shape_errors
from properties.models import Property
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
    """Confirm a stay at today's price. Raises ValidationError (bad dates, judged in the
    listing's own time zone; too many guests; unknown or own property), PropertyUnavailable
    (host closed it) or BookingConflict (dates taken)."""
    errors = stay_shape_errors(check_in=check_in, check_out=check_out)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            # Competing bookings of one property queue on this row lock (PostgreSQL); on SQLite
            # the IMMEDIATE transaction already holds the database's write lock.
            listing = Property.objects.select_for_update().filter(pk=property_id).first()
            if listing is None:
                raise ValidationError({"property_id": ["No property with this id."]})
            if listing.owner_id == guest.pk:
                raise ValidationError({"property_id": ["You cannot book your own property."]})
            price = _stay_checked_and_priced(
                listing=listing, check_in=check_in, check_out=check_out, guests=guests
            )
            try:
                hold = hold_create(
                    listing=listing, start=check_in, end=check_out, kind=Hold.Kind.BOOKING
                )
            except NightsTaken as exc:
                BOOKING_CONFLICTS.inc()
                raise BookingConflict(exc.message) from exc
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
            )
            _log_after_commit("booking created", booking)
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


def booking_cancel(*, guest: User, booking_id: int) -> Booking:
    """Cancel the guest's own booking, freeing its dates. Raises NotFound for anyone else's
    booking (its existence is not revealed) and BookingNotCancellable once it is cancelled or
    its check-in day has come in the listing's time zone."""
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("property", "hold")
            .filter(pk=booking_id, guest=guest)
            .first()
        )
        if booking is None:
            raise NotFound()
        if booking.status == Booking.Status.CANCELLED:
            raise BookingNotCancellable("This booking is already cancelled.")
        if booking.check_in <= local_today(booking.property.time_zone):
            raise BookingNotCancellable(
                "The check-in day has come; this booking can no longer be cancelled."
            )
        hold = booking.hold
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = timezone.now()
        booking.hold = None
        booking.save(update_fields=["status", "cancelled_at", "hold"])
        if hold is not None:
            hold_release(hold=hold)
        _log_after_commit("booking cancelled", booking)
        transaction.on_commit(BOOKINGS_CANCELLED.inc)
    return booking
