from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import User
from bookings.models import Booking
from core.local_time import local_dates_vs_today_q


def booking_overlap_q(*, check_in: date, check_out: date) -> Q:
    """Confirmed bookings overlapping the stay [check_in, check_out).

    Ranges are half-open: a stay ending on the 5th and one starting on the 5th do not overlap,
    so a guest may check in the day another checks out. The one definition of "taken", used by
    booking_create and by the properties availability search alike."""
    return Q(status=Booking.Status.CONFIRMED, check_in__lt=check_out, check_out__gt=check_in)


def booking_overlap_exists(*, property_id: int, check_in: date, check_out: date) -> bool:
    """True when a confirmed booking of the property overlaps the stay."""
    return Booking.objects.filter(
        booking_overlap_q(check_in=check_in, check_out=check_out), property_id=property_id
    ).exists()


def booking_upcoming_q() -> Q:
    """Confirmed bookings whose stay has not ended yet: check-out after today in the listing's
    own time zone."""
    return Q(status=Booking.Status.CONFIRMED) & local_dates_vs_today_q(
        date_field="check_out", lookup="gt", zone_field="property__time_zone"
    )


def booking_upcoming_exists(*, property_id: int) -> bool:
    """True while the property has a confirmed stay that has not ended."""
    return Booking.objects.filter(booking_upcoming_q(), property_id=property_id).exists()


def booking_list_for_guest(*, guest: User) -> QuerySet[Booking]:
    """The guest's own bookings, newest first, with the property (deleted ones too) joined."""
    return (
        Booking.objects.filter(guest=guest)
        .select_related("property")
        .order_by("-created_at", "-id")
    )


def booking_list_for_property(*, property_id: int) -> QuerySet[Booking]:
    """Every booking of a property with its guest, newest first (for the property's owner)."""
    return (
        Booking.objects.filter(property_id=property_id)
        .select_related("property", "guest")
        .order_by("-created_at", "-id")
    )


def booking_calendar(*, property_id: int, start: date, end: date) -> QuerySet[Booking]:
    """Confirmed stays of the property overlapping [start, end), by check-in: the dates a
    calendar shows as taken."""
    return (
        Booking.objects.filter(
            booking_overlap_q(check_in=start, check_out=end), property_id=property_id
        )
        .order_by("check_in")
        .only("check_in", "check_out")
    )
