"""The shape of a stay, shared by booking creation and the availability search: both must agree
on which date ranges a guest may ask for."""

from datetime import date, timedelta

from django.utils import timezone

MAX_NIGHTS = 365
# Nobody plans a stay further ahead; prices and calendars that far out are fiction, and an
# unbounded date lets a client hold (or search) dates for decades.
MAX_DAYS_AHEAD = 730


def utc_today() -> date:
    """Today's date in UTC, the service's single notion of "today"."""
    return timezone.now().date()


def latest_check_in() -> date:
    """The furthest check-in date a guest may book or search for."""
    return utc_today() + timedelta(days=MAX_DAYS_AHEAD)


def stay_errors(*, check_in: date, check_out: date) -> dict[str, list[str]]:
    """Field errors for a stay [check_in, check_out): empty when the stay is acceptable."""
    errors: dict[str, list[str]] = {}
    if check_in < utc_today():
        errors["check_in"] = ["Check-in cannot be in the past."]
    elif check_in > latest_check_in():
        errors["check_in"] = [f"Check-in cannot be more than {MAX_DAYS_AHEAD} days ahead."]
    if check_out <= check_in:
        errors["check_out"] = ["Check-out must be after check-in."]
    elif (check_out - check_in).days > MAX_NIGHTS:
        errors["check_out"] = [f"A stay cannot be longer than {MAX_NIGHTS} nights."]
    return errors
