"""The shape of a stay, shared by booking creation and the availability search: both must agree
on which date ranges a guest may ask for. "Today" is the listing's own (core.local_time)."""

from datetime import date, timedelta

from django.utils import timezone

from core.local_time import zones_by_local_today

MAX_NIGHTS = 365
# Nobody plans a stay further ahead; prices and calendars that far out are fiction, and an
# unbounded date lets a client hold (or search) dates for decades.
MAX_DAYS_AHEAD = 730


def utc_today() -> date:
    """Today's date in UTC: for what belongs to no listing (token and key windows, tests)."""
    return timezone.now().date()


def earliest_today() -> date:
    """The earliest date any calendar on Earth shows now (UTC-12's)."""
    return min(zones_by_local_today())


def latest_today() -> date:
    """The latest date any calendar on Earth shows now (UTC+14's)."""
    return max(zones_by_local_today())


def stay_shape_errors(*, check_in: date, check_out: date) -> dict[str, list[str]]:
    """Errors of the range itself, whatever the day: check-out after check-in, not too long."""
    if check_out <= check_in:
        return {"check_out": ["Check-out must be after check-in."]}
    if (check_out - check_in).days > MAX_NIGHTS:
        return {"check_out": [f"A stay cannot be longer than {MAX_NIGHTS} nights."]}
    return {}


def stay_date_errors(*, check_in: date, today: date) -> dict[str, list[str]]:
    """Errors of the check-in day against `today` (the listing's local date)."""
    if check_in < today:
        return {"check_in": ["Check-in cannot be in the past."]}
    if check_in > today + timedelta(days=MAX_DAYS_AHEAD):
        return {"check_in": [f"Check-in cannot be more than {MAX_DAYS_AHEAD} days ahead."]}
    return {}
