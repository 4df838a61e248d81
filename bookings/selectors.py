from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    CharField,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from accounts.models import User
from bookings.models import (
    COMPLETED,
    CONFIRMED,
    EXPIRED,
    PENDING,
    Booking,
    BookingRevision,
    BookingTransition,
)
from core.local_time import local_dates_vs_today_q


def booking_holding_q(*, now: datetime | None = None) -> Q:
    """Bookings that hold their nights (through their calendars.Hold): confirmed stays, and
    requests not yet past their deadline (an expired request holds nothing, whether or not a
    job has stored it)."""
    return Q(status=CONFIRMED) | Q(status=PENDING, expires_at__gt=now or timezone.now())


def booking_completed_q() -> Q:
    """Confirmed stays whose check-out day has come in the listing's own time zone: they read
    as completed before `manage.py complete_bookings` stores it."""
    return Q(status=CONFIRMED) & local_dates_vs_today_q(
        date_field="check_out", lookup="lte", zone_field="property__time_zone"
    )


def booking_status_expression(*, now: datetime | None = None) -> Case:
    """The state a booking is in now: the stored one, except a request past its deadline is
    expired and a confirmed stay whose check-out day has come is completed."""
    return Case(
        When(Q(status=PENDING, expires_at__lte=now or timezone.now()), then=Value(EXPIRED)),
        When(booking_completed_q(), then=Value(COMPLETED)),
        default=F("status"),
        output_field=CharField(),
    )


def booking_status_now(booking: Booking, *, now: datetime | None = None) -> str:
    """booking_status_expression for one loaded booking (reads booking.property)."""
    now = now or timezone.now()
    if booking.status == PENDING and booking.expires_at and booking.expires_at <= now:
        return EXPIRED
    if booking.status == CONFIRMED:
        local_today = now.astimezone(ZoneInfo(booking.property.time_zone)).date()
        if booking.check_out <= local_today:
            return COMPLETED
    return booking.status


def booking_with_status(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    """The queryset with `current_status` (booking_status_expression) on each row."""
    return queryset.annotate(current_status=booking_status_expression())


def booking_upcoming_q() -> Q:
    """Bookings holding nights whose stay has not ended yet: check-out after today in the
    listing's own time zone (confirmed stays and live requests)."""
    return booking_holding_q() & local_dates_vs_today_q(
        date_field="check_out", lookup="gt", zone_field="property__time_zone"
    )


def booking_upcoming_exists(*, property_id: int) -> bool:
    """True while the property has a confirmed stay or a live request that has not ended."""
    return Booking.objects.filter(booking_upcoming_q(), property_id=property_id).exists()


def booking_history_prefetch() -> list[Prefetch]:
    """The transitions and revisions of each booking, oldest first, with the actors."""
    return [
        Prefetch(
            "transitions",
            queryset=BookingTransition.objects.select_related("actor").order_by("created_at", "id"),
        ),
        Prefetch("revisions", queryset=BookingRevision.objects.order_by("created_at", "id")),
    ]


def booking_list_for_host(*, host: User) -> QuerySet[Booking]:
    """Every booking and request across the host's listings (deleted ones too), newest first,
    with `current_status`, the guest and the history (filters: bookings.filters)."""
    return booking_with_status(
        Booking.objects.filter(property__owner=host)
        .select_related("property", "guest")
        .prefetch_related(*booking_history_prefetch())
        .order_by("-created_at", "-id")
    )


def booking_get_for_output(*, booking_id: int) -> Booking:
    """One booking with what its output shows (property, guest, state now, history)."""
    return booking_with_status(
        Booking.objects.select_related("property", "guest").prefetch_related(
            *booking_history_prefetch()
        )
    ).get(pk=booking_id)


def booking_created_for_output(*, booking: Booking) -> Booking:
    """A booking this request has just created (booking_create's, with its property and guest
    loaded), ready for its output without a query: its history is the one booking_create
    recorded (`created_history`: its first transition; no revision yet), and its state is read
    from the clock by the serializer (booking_status_now). Only for a booking nothing else has
    changed since booking_create in this request: a caller that records another transition
    first must read the booking back instead."""
    # What prefetch_related would leave (Django's prefetch_one_level does the same): the
    # related managers answer from these lists.
    booking._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "transitions": _known(booking.transitions.all(), booking.created_history),  # type: ignore[attr-defined]
        "revisions": _known(booking.revisions.all(), []),
    }
    return booking


def _known(queryset: QuerySet, objects: list) -> QuerySet:
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    return queryset


def booking_list_for_guest(*, guest: User) -> QuerySet[Booking]:
    """The guest's own bookings, newest first, with the property (deleted ones too) joined."""
    return booking_with_status(
        Booking.objects.filter(guest=guest)
        .select_related("property")
        .prefetch_related(*booking_history_prefetch())
        .order_by("-created_at", "-id")
    )


def booking_list_for_property(*, property_id: int) -> QuerySet[Booking]:
    """Every booking of a property with its guest, newest first (for the property's owner)."""
    return booking_with_status(
        Booking.objects.filter(property_id=property_id)
        .select_related("property", "guest")
        .prefetch_related(*booking_history_prefetch())
        .order_by("-created_at", "-id")
    )
