from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from bookings.models import Booking
from bookings.selectors import booking_upcoming_q
from core.api.query import AsciiNumberFilter, BooleanFilter, DateFilter, StrictFilterForm


class BookingFilter(filters.FilterSet):
    """Filters on a queryset annotated with `current_status` (bookings.selectors)."""

    status = filters.ChoiceFilter(
        field_name="current_status",
        choices=Booking.Status.choices,
        help_text="The state as read now: a request past its deadline is expired, a stay whose "
        "check-out day has come is completed.",
    )
    upcoming = BooleanFilter(
        method="filter_upcoming",
        help_text="true: confirmed stays and live requests whose check-out is after today in "
        "the listing's time zone; false: the rest.",
    )

    class Meta:
        model = Booking
        form = StrictFilterForm
        fields: list[str] = []

    def filter_upcoming(self, queryset, name, value):
        return (
            queryset.filter(booking_upcoming_q())
            if value
            else queryset.exclude(booking_upcoming_q())
        )


# A listing id: ASCII digits, at most 18 of them (core.api.urls.ID_PATTERN), below bigint's limit.
@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 10**18 - 1})
class IdFilter(AsciiNumberFilter):
    def __init__(self, **kwargs):
        super().__init__(max_digits=18, decimal_places=0, **kwargs)


class HostBookingFilter(BookingFilter):
    listing = IdFilter(field_name="property_id", help_text="Only this listing's bookings (its id).")
    start = DateFilter(
        field_name="check_out",
        lookup_expr="gt",
        help_text="Stays that end after this day (with `end`: stays touching [start, end)).",
    )
    end = DateFilter(
        field_name="check_in", lookup_expr="lt", help_text="Stays that begin before this day."
    )

    class Meta(BookingFilter.Meta):
        pass
