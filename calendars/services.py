from datetime import date, datetime

import psycopg.errors
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from calendars.models import Hold
from calendars.selectors import holds_overlapping_loaded
from core.cache_generations import AVAILABILITY, cache_generations_forget_on_commit
from core.exceptions import NightsTaken, NotFound
from core.local_time import local_today
from core.stays import MAX_DAYS_AHEAD, stay_shape_errors
from properties.models import Property

HOLD_PHRASE = {
    Hold.Kind.BOOKING: "booked",
    Hold.Kind.BLOCK: "blocked by the host",
    Hold.Kind.IMPORT: "taken on another calendar",
}


def hold_taken_message(hold: Hold) -> str:
    """Why nights cannot be had: the held dates and the kind of holder, never whose."""
    return (
        f"The nights from {hold.start} to {hold.end} (check-out day) are already "
        f"{HOLD_PHRASE[Hold.Kind(hold.kind)]}."
    )


def is_exclusion_violation(exc: IntegrityError) -> bool:
    """The PostgreSQL no-overlap constraint refused a write (a writer that skipped the lock)."""
    return isinstance(exc.__cause__, psycopg.errors.ExclusionViolation)


def _free_nights_or_raise(
    *, listing: Property, start: date, end: date, now: datetime, ignore: Hold | None = None
) -> None:
    """Raise NightsTaken naming the first active hold sharing a night with [start, end); delete
    void ones in the way (a request past its expiry never blocks anyone, job or no job)."""
    overlapping = holds_overlapping_loaded(
        property_id=listing.pk,
        start=start,
        end=end,
        exclude_id=ignore.pk if ignore is not None else None,
    )
    void = []
    for hold in overlapping:
        if hold.expires_at is not None and hold.expires_at <= now:
            void.append(hold.pk)
            continue
        raise NightsTaken(hold_taken_message(hold))
    if void:
        Hold.objects.filter(pk__in=void).delete()


def hold_create(
    *,
    listing: Property,
    start: date,
    end: date,
    kind: str,
    note: str = "",
    expires_at: datetime | None = None,
) -> Hold:
    """Hold the nights [start, end) of a listing whose row the caller has locked, inside the
    caller's transaction. Raises NightsTaken when an active hold shares a night (PostgreSQL's
    exclusion constraint backs the check: callers treat an IntegrityError for which
    is_exclusion_violation() holds as NightsTaken, outside their atomic block)."""
    _free_nights_or_raise(listing=listing, start=start, end=end, now=timezone.now())
    hold = Hold.objects.create(
        property=listing, kind=kind, start=start, end=end, note=note, expires_at=expires_at
    )
    # Availability searches cached before this commit no longer hold.
    cache_generations_forget_on_commit(AVAILABILITY)
    return hold


def hold_move(*, hold: Hold, start: date, end: date) -> Hold:
    """Move a hold to [start, end) in one UPDATE (its listing's row locked by the caller): the
    old nights stay held until the new ones are secured; its expiry stays as it is. Raises
    NightsTaken as hold_create."""
    listing = hold.property
    _free_nights_or_raise(listing=listing, start=start, end=end, now=timezone.now(), ignore=hold)
    hold.start, hold.end = start, end
    hold.save(update_fields=["start", "end"])
    cache_generations_forget_on_commit(AVAILABILITY)
    return hold


def hold_keep(*, hold: Hold) -> Hold:
    """A request's hold becomes permanent (its request was accepted): the same nights, no
    expiry. No availability changes, so nothing to re-check or forget."""
    hold.expires_at = None
    hold.save(update_fields=["expires_at"])
    return hold


def hold_release(*, hold: Hold) -> None:
    """Free the hold's nights (inside the caller's transaction)."""
    hold.delete()
    cache_generations_forget_on_commit(AVAILABILITY)


def _owned_listing_locked(*, owner, property_id: int) -> Property:
    listing = Property.objects.select_for_update().filter(pk=property_id, owner=owner).first()
    if listing is None:
        raise NotFound()
    return listing


def block_create(*, owner, property_id: int, start: date, end: date, note: str = "") -> Hold:
    """Block [start, end) of the owner's listing. Raises NotFound (not the owner's listing),
    ValidationError (a range that ends in the listing's past, too long or too far ahead) or
    NightsTaken (a night is already booked, blocked or imported: the message names the dates,
    never the guest)."""
    errors = stay_shape_errors(check_in=start, check_out=end)
    if errors:
        raise ValidationError({"end": errors["check_out"]})
    try:
        with transaction.atomic():
            listing = _owned_listing_locked(owner=owner, property_id=property_id)
            today = local_today(listing.time_zone)
            if end <= today:
                raise ValidationError({"end": ["The block would end in the past."]})
            if (start - today).days > MAX_DAYS_AHEAD:
                raise ValidationError(
                    {"start": [f"A block cannot start more than {MAX_DAYS_AHEAD} days ahead."]}
                )
            return hold_create(
                listing=listing, start=start, end=end, kind=Hold.Kind.BLOCK, note=note
            )
    except IntegrityError as exc:
        if not is_exclusion_violation(exc):
            raise
        raise NightsTaken() from exc


def block_delete(*, owner, property_id: int, block_id: int) -> None:
    """Unblock: delete one of the owner's listing's blocks. Raises NotFound otherwise."""
    with transaction.atomic():
        listing = _owned_listing_locked(owner=owner, property_id=property_id)
        block = Hold.objects.filter(pk=block_id, property=listing, kind=Hold.Kind.BLOCK).first()
        if block is None:
            raise NotFound()
        hold_release(hold=block)
