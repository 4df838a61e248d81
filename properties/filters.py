from django_filters import rest_framework as filters

from core.api.query import BooleanFilter, DateFilter, MoneyFilter, StrictFilterForm
from core.stays import stay_errors
from properties.selectors import property_available_between, property_search


class PropertyFilterForm(StrictFilterForm):
    def clean(self):
        cleaned = super().clean()
        check_in, check_out = cleaned.get("check_in"), cleaned.get("check_out")
        if (check_in is None) != (check_out is None) and not self.errors:
            missing = "check_out" if check_out is None else "check_in"
            self.add_error(missing, "Give both check_in and check_out, or neither.")
        elif check_in is not None and check_out is not None:
            for field, messages in stay_errors(check_in=check_in, check_out=check_out).items():
                for message in messages:
                    self.add_error(field, message)
        return cleaned


class StableOrderingFilter(filters.OrderingFilter):
    """Ordering with `id` as the tie-breaker in the same direction, so pages stay stable."""

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        tie_breaker = "-id" if ordering[0].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


class PropertyFilter(filters.FilterSet):
    location = filters.CharFilter(
        lookup_expr="icontains", max_length=255, help_text="Substring of the location."
    )
    min_price = MoneyFilter(field_name="price_per_night", lookup_expr="gte")
    max_price = MoneyFilter(field_name="price_per_night", lookup_expr="lte")
    owner = filters.CharFilter(
        field_name="owner__username", lookup_expr="iexact", max_length=30, help_text="Username."
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=255,
        help_text="Substring of title, description or location.",
    )
    available = BooleanFilter(
        field_name="availability",
        help_text="true or false: the host's availability flag.",
    )
    check_in = DateFilter(
        method="filter_stay", help_text="With check_out: only properties free for the stay."
    )
    check_out = DateFilter(method="filter_stay", help_text="With check_in.")
    ordering = StableOrderingFilter(fields=("price_per_night", "created_at"))

    class Meta:
        form = PropertyFilterForm
        fields = []

    def filter_search(self, queryset, name, value):
        return property_search(queryset, text=value)

    def filter_stay(self, queryset, name, value):
        # Both dates are validated together by the form; apply them once, on check_in.
        if name != "check_in":
            return queryset
        return property_available_between(
            queryset, check_in=value, check_out=self.form.cleaned_data["check_out"]
        )
