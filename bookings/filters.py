from django_filters import rest_framework as filters

from bookings.models import Booking
from bookings.selectors import booking_upcoming_q
from core.api.query import BooleanFilter, StrictFilterForm


class BookingFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Booking.Status.choices)
    upcoming = BooleanFilter(
        method="filter_upcoming",
        help_text="true: confirmed stays whose check-out is after today (UTC); false: the rest.",
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
