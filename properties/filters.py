from django_filters import rest_framework as filters
from drf_spectacular.drainage import set_override

from core.api.fields import CENT, text_pattern
from core.api.query import BooleanFilter, DateFilter, MoneyFormField, StrictFilterForm
from core.stays import stay_errors
from properties.models import MAX_PRICE_PER_NIGHT
from properties.selectors import property_available_between, property_search

ORDERINGS = [
    ("price_per_night", "cheapest first"),
    ("-price_per_night", "dearest first"),
    ("created_at", "oldest first"),
    ("-created_at", "newest first (the default)"),
]


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


class TextFilter(filters.CharFilter):
    """Free text up to `max_length` characters; the schema states the limit."""

    def __init__(self, *, max_length: int, description: str, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        schema = {
            "type": "string",
            "maxLength": max_length,
            "pattern": text_pattern(allow_blank=True),
            "description": description,
        }
        set_override(self, "field", schema)


class PriceFilter(filters.NumberFilter):
    """A price bound in cents, 0 to the highest price a property may have, in ASCII digits
    without sign or exponent (MoneyFormField)."""

    field_class = MoneyFormField

    def __init__(self, *, description: str, **kwargs):
        super().__init__(
            field_name="price_per_night",
            min_value=0,
            max_value=MAX_PRICE_PER_NIGHT,
            max_digits=9,
            decimal_places=2,
            **kwargs,
        )
        schema = {
            "type": "number",
            "minimum": 0,
            "maximum": int(MAX_PRICE_PER_NIGHT),
            "multipleOf": float(CENT),
            "description": description,
        }
        set_override(self, "field", schema)


class StableOrderingFilter(filters.ChoiceFilter):
    """One sort key (a single value, as the schema says), with `id` as the tie-breaker in the
    same direction so that pages stay stable."""

    def __init__(self, **kwargs):
        super().__init__(choices=ORDERINGS, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        tie_breaker = "-id" if value.startswith("-") else "id"
        return qs.order_by(value, tie_breaker)


class PropertyFilter(filters.FilterSet):
    location = TextFilter(
        lookup_expr="icontains", max_length=255, description="Substring of the location."
    )
    min_price = PriceFilter(lookup_expr="gte", description="Lowest price per night.")
    max_price = PriceFilter(lookup_expr="lte", description="Highest price per night.")
    owner = TextFilter(
        field_name="owner__username",
        lookup_expr="iexact",
        max_length=30,
        description="The owner's username.",
    )
    search = TextFilter(
        method="filter_search",
        max_length=255,
        description="Substring of title, description or location.",
    )
    available = BooleanFilter(
        field_name="availability",
        help_text="true or false: the host's availability flag.",
    )
    check_in = DateFilter(
        method="filter_stay", help_text="With check_out: only properties free for the stay."
    )
    check_out = DateFilter(method="filter_stay", help_text="With check_in.")
    ordering = StableOrderingFilter(help_text="Sort key; `-` sorts descending.")

    class Meta:
        form = PropertyFilterForm
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return property_search(queryset, text=value)

    def filter_stay(self, queryset, name, value):
        # Both dates are validated together by the form; apply them once, on check_in.
        if name != "check_in":
            return queryset
        return property_available_between(
            queryset, check_in=value, check_out=self.form.cleaned_data["check_out"]
        )
