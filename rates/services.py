from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from core.cache_generations import AVAILABILITY, cache_generations_forget_on_commit
from core.local_time import local_today
from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS
from properties.models import Property
from rates.models import MAX_TAXES, RateDay, RatePlan, Tax

PLAN_FIELDS = (
    "min_nights",
    "max_nights",
    "weekend_price",
    "weekend_days",
    "weekly_discount_percent",
    "monthly_discount_percent",
    "booking_window_days",
    "advance_notice_days",
    "preparation_nights",
    "cleaning_fee",
    "extra_guest_fee",
    "guests_included",
)
DAY_FIELDS = ("price", "min_nights", "closed", "closed_to_arrival", "closed_to_departure")
BOOLEAN_DAY_FIELDS = ("closed", "closed_to_arrival", "closed_to_departure")
MAX_EDITS = 100
# An edit covers dates from yesterday (the far-west zones' today) to the last night a stay
# booked today could include.
MAX_EDIT_DAYS = MAX_DAYS_AHEAD + MAX_NIGHTS


def _lock_listing(listing: Property) -> None:
    # Rule edits and bookings of one listing queue on its row: a booking never prices with
    # half of a bulk edit.
    Property.objects.select_for_update().filter(pk=listing.pk).exists()


def rate_plan_set(*, listing: Property, changes: dict, taxes: list[dict] | None = None) -> RatePlan:
    """Set the fields of the listing's plan named in `changes` (creating it with the defaults
    first) and, if given, replace its taxes. Raises ValidationError naming the field when
    min_nights exceeds max_nights or there are too many taxes."""
    with transaction.atomic():
        _lock_listing(listing)
        plan = RatePlan.objects.filter(property_id=listing.pk).first() or RatePlan(
            property_id=listing.pk
        )
        for name, value in changes.items():
            if name not in PLAN_FIELDS:
                raise ValueError(f"{name} is not a rate plan field")
            setattr(plan, name, value)
        if plan.min_nights > plan.max_nights:
            raise ValidationError(
                {"min_nights": [f"Cannot be more than max_nights ({plan.max_nights})."]}
            )
        if taxes is not None and len(taxes) > MAX_TAXES:
            raise ValidationError({"taxes": [f"A listing has at most {MAX_TAXES} taxes."]})
        plan.save()
        if taxes is not None:
            Tax.objects.filter(property_id=listing.pk).delete()
            Tax.objects.bulk_create(Tax(property_id=listing.pk, **tax) for tax in taxes)
        cache_generations_forget_on_commit(AVAILABILITY)
    return plan


@dataclass(frozen=True)
class RangeEdit:
    """Set `changes` (a subset of DAY_FIELDS; None clears a field back to the default) on the
    dates [start, end), only those on `weekdays` (Monday 0) if given."""

    start: date
    end: date
    changes: dict
    weekdays: frozenset[int] | None = field(default=None)


def _edit_errors(edit: RangeEdit, *, today: date) -> list[str]:
    errors = []
    if edit.end <= edit.start:
        errors.append("end: Must be after start.")
    elif (edit.end - edit.start).days > MAX_EDIT_DAYS:
        errors.append(f"end: A range covers at most {MAX_EDIT_DAYS} days.")
    if edit.start < today - timedelta(days=1):
        errors.append("start: Cannot be in the past.")
    elif edit.end > today + timedelta(days=MAX_EDIT_DAYS + 1):
        errors.append(f"end: Cannot be more than {MAX_EDIT_DAYS} days ahead.")
    if not edit.changes:
        errors.append("Give at least one of " + ", ".join(DAY_FIELDS) + ".")
    return errors


def _is_empty(row: RateDay) -> bool:
    return (
        row.price is None
        and row.min_nights is None
        and not (row.closed or row.closed_to_arrival or row.closed_to_departure)
    )


def rate_days_edit(*, listing: Property, edits: list[RangeEdit]) -> int:
    """Apply range edits to the listing's dates, in order, all or nothing: only the fields an
    edit names change, a date left with no override loses its row. Returns how many dates the
    edits touched. Raises ValidationError({"edits": ["<index>: <message>", ...]}) naming every
    invalid item; then nothing is written."""
    today = local_today(listing.time_zone)
    messages = [
        f"{index}: {message}"
        for index, edit in enumerate(edits)
        for message in _edit_errors(edit, today=today)
    ]
    if not edits:
        messages.append("Give at least one range.")
    if len(edits) > MAX_EDITS:
        messages.append(f"At most {MAX_EDITS} ranges per request.")
    if messages:
        raise ValidationError({"edits": messages})
    first = min(edit.start for edit in edits)
    last = max(edit.end for edit in edits)
    with transaction.atomic():
        _lock_listing(listing)
        rows = {
            row.date: row
            for row in RateDay.objects.filter(
                property_id=listing.pk, date__gte=first, date__lt=last
            )
        }
        touched: set[date] = set()
        for edit in edits:
            day = edit.start
            while day < edit.end:
                if edit.weekdays is None or day.weekday() in edit.weekdays:
                    row = rows.get(day) or RateDay(property_id=listing.pk, date=day)
                    for name, value in edit.changes.items():
                        if name in BOOLEAN_DAY_FIELDS and value is None:
                            value = False
                        setattr(row, name, value)
                    rows[day] = row
                    touched.add(day)
                day += timedelta(days=1)
        # Rewrite the span's rows: those the edits left empty are gone.
        RateDay.objects.filter(property_id=listing.pk, date__gte=first, date__lt=last).delete()
        RateDay.objects.bulk_create(row for _, row in sorted(rows.items()) if not _is_empty(row))
        cache_generations_forget_on_commit(AVAILABILITY)
    return len(touched)
