from django.db.models import Q, QuerySet

from accounts.models import User
from bookings.models import Booking
from core.local_time import local_dates_vs_today_q


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
