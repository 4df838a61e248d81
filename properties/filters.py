import functools
import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.drainage import set_override

from core.api.fields import CENT, text_pattern
from core.api.query import (
    AsciiNumberFilter,
    BooleanFilter,
    DateFilter,
    StrictFilterForm,
    with_shared_fields,
)
from core.stays import MAX_DAYS_AHEAD, earliest_today, latest_today, stay_shape_errors
from core.text import fold
from properties.models import (
    AMENITY_CODE_PATTERN,
    MAX_BEDS,
    MAX_GUESTS,
    MAX_PRICE_PER_NIGHT,
    MAX_ROOMS,
    Property,
    PropertyType,
    RoomType,
)
from properties.selectors import (
    ORDERING_COLUMNS,
    PropertyCriteria,
    amenities_by_code,
    near_box,
    property_filtered,
)

ORDERINGS = [
    ("price_per_night", "cheapest first"),
    ("-price_per_night", "dearest first"),
    ("created_at", "oldest first"),
    ("-created_at", "newest first (the default)"),
    ("distance", "nearest first (with near)"),
]
AMENITY_CODE = re.compile(AMENITY_CODE_PATTERN)
assert set(ORDERING_COLUMNS) <= {key for key, _ in ORDERINGS}


MAX_RADIUS_KM = 20_000  # half the Earth's circumference: every point is nearer than that
DEFAULT_RADIUS_KM = 25
# Degrees as plain ASCII decimals (no exponent, NaN or other scripts' digits).
DEGREES_PATTERN = r"-?[0-9]{1,3}(\.[0-9]{1,8})?"
DEGREES = re.compile(DEGREES_PATTERN)


def _coordinates(value: str, count: int) -> list[Decimal]:
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != count:
        raise forms.ValidationError(f"Give {count} comma-separated numbers.")
    if not all(DEGREES.fullmatch(part) for part in parts):
        raise forms.ValidationError("Give plain decimal degrees, like -1.2921.")
    return [Decimal(part) for part in parts]


class BoundsField(forms.Field):
    """`south,west,north,east` in degrees: a map's viewport. (Not a CharField: an empty value
    is refused like every typed parameter's, core.api.query.StrictFilterForm.)"""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        south, west, north, east = _coordinates(value, 4)
        if not (-90 <= south <= north <= 90):
            raise forms.ValidationError("Latitudes must satisfy -90 <= south <= north <= 90.")
        if not (-180 <= west <= 180 and -180 <= east <= 180):
            raise forms.ValidationError("Longitudes must be between -180 and 180.")
        return (south, west, north, east)


class PointField(forms.Field):
    """`latitude,longitude` in degrees."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        latitude, longitude = _coordinates(value, 2)
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise forms.ValidationError(
                "Give a latitude in [-90, 90] and a longitude in [-180, 180]."
            )
        return (float(latitude), float(longitude))


class BoundsFilter(filters.Filter):
    field_class = BoundsField

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        pattern = ",".join([DEGREES_PATTERN] * 4)
        schema = {"type": "string", "pattern": f"^{pattern}$", "example": "-1.45,36.65,-1.16,37.1"}
        set_override(self, "field", schema)


class PointFilter(filters.Filter):
    field_class = PointField

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        pattern = f"^{DEGREES_PATTERN},{DEGREES_PATTERN}$"
        set_override(
            self, "field", {"type": "string", "pattern": pattern, "example": "-1.29,36.82"}
        )


class ChoiceListFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """A comma-separated list of choices: rows matching any of them."""


class PropertyFilterForm(StrictFilterForm):
    def clean(self):
        cleaned = super().clean()
        check_in, check_out = cleaned.get("check_in"), cleaned.get("check_out")
        if (check_in is None) != (check_out is None) and not self.errors:
            missing = "check_out" if check_out is None else "check_in"
            self.add_error(missing, "Give both check_in and check_out, or neither.")
        elif check_in is not None and check_out is not None:
            # Each listing judges the day in its own zone (the search filters per listing); a
            # day that is in the past, or beyond the window, everywhere on Earth is an error.
            errors = stay_shape_errors(check_in=check_in, check_out=check_out)
            if check_in < earliest_today():
                errors["check_in"] = ["Check-in cannot be in the past."]
            elif (check_in - latest_today()).days > MAX_DAYS_AHEAD:
                errors["check_in"] = [f"Check-in cannot be more than {MAX_DAYS_AHEAD} days ahead."]
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field, message)
        if cleaned.get("amenities"):
            codes = sorted({code.strip() for code in cleaned["amenities"]})
            malformed = [code for code in codes if not AMENITY_CODE.fullmatch(code)]
            if malformed:
                self.add_error("amenities", "Give amenity codes from GET /api/amenities/.")
                return cleaned
            _, unknown = amenities_by_code(codes=codes)
            if unknown:
                self.add_error("amenities", f"Unknown amenity codes: {', '.join(unknown)}.")
            cleaned["amenities"] = codes
        if (
            cleaned.get("ordering") == "distance"
            and cleaned.get("near") is None
            and "ordering" not in self.errors
        ):
            self.add_error("ordering", "Ordering by distance needs near=latitude,longitude.")
        if self.data.get("radius_km") and cleaned.get("near") is None and not self.errors:
            self.add_error("radius_km", "Give near=latitude,longitude with radius_km.")
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


class PriceFilter(AsciiNumberFilter):
    """A price bound in cents, 0 to the highest price a property may have, in ASCII digits
    without sign or exponent."""

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
    """One sort key (a single value, as the schema says); properties.selectors.property_filtered
    sorts, with `id` as the tie-breaker in the same direction so that pages stay stable."""

    def __init__(self, **kwargs):
        super().__init__(choices=ORDERINGS, **kwargs)


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
        method="by_criteria",
        max_length=255,
        description="Words that must all appear in the title, description, location or city, "
        "ignoring case and accents.",
    )
    available = BooleanFilter(
        field_name="availability",
        help_text="true or false: the host's availability flag.",
    )
    guests = AsciiNumberFilter(
        field_name="max_guests",
        lookup_expr="gte",
        min_value=1,
        max_value=MAX_GUESTS,
        decimal_places=0,
        help_text="Places for at least this many guests (with dates: bookable for them).",
    )
    room_type = ChoiceListFilter(
        choices=RoomType.choices, help_text="Comma-separated: any of these room types."
    )
    property_type = ChoiceListFilter(
        choices=PropertyType.choices, help_text="Comma-separated: any of these property types."
    )
    min_bedrooms = AsciiNumberFilter(
        field_name="bedrooms", lookup_expr="gte", min_value=0, max_value=MAX_ROOMS, decimal_places=0
    )
    min_beds = AsciiNumberFilter(
        field_name="beds", lookup_expr="gte", min_value=0, max_value=MAX_BEDS, decimal_places=0
    )
    min_bathrooms = AsciiNumberFilter(
        field_name="bathrooms",
        lookup_expr="gte",
        min_value=0,
        max_value=MAX_ROOMS,
        decimal_places=1,
    )
    amenities = filters.BaseCSVFilter(
        method="by_criteria",
        help_text="Comma-separated amenity codes (GET /api/amenities/): places with all of them.",
    )
    pets_allowed = BooleanFilter(field_name="pets_allowed", help_text="true or false.")
    city = TextFilter(
        method="by_criteria", max_length=100, description="Exact city, ignoring case and accents."
    )
    country = filters.CharFilter(
        method="by_criteria", max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. KE."
    )
    bounds = BoundsFilter(
        method="by_criteria",
        help_text="south,west,north,east: a map's viewport (west > east crosses the antimeridian).",
    )
    near = PointFilter(
        method="by_criteria",
        help_text="latitude,longitude: places within radius_km of it, with distance_km.",
    )
    radius_km = AsciiNumberFilter(
        method="by_criteria",
        min_value=Decimal("0.1"),
        max_value=MAX_RADIUS_KM,
        decimal_places=1,
        help_text=f"With near; default {DEFAULT_RADIUS_KM}.",
    )
    check_in = DateFilter(
        method="by_criteria",
        help_text="With check_out (and guests): only properties a booking would succeed on.",
    )
    check_out = DateFilter(method="by_criteria", help_text="With check_in.")
    ordering = StableOrderingFilter(help_text="Sort key; `-` sorts descending.")

    class Meta:
        form = PropertyFilterForm
        fields: list[str] = []

    def filter_queryset(self, queryset):
        # Every filter at once, from the validated form: one definition of the list's filters
        # (properties.selectors.property_filtered), which query templates compile too.
        return property_filtered(queryset, self.criteria())

    def by_criteria(self, queryset, name, value):
        return queryset  # never called: filter_queryset applies every parameter

    def criteria(self) -> PropertyCriteria:
        """The validated parameters as search criteria (call after is_valid())."""
        return property_criteria(self.form.cleaned_data)


@functools.cache
def property_filter_form_class() -> type[PropertyFilterForm]:
    """PropertyFilter's form class, built once: django-filter builds it anew for each request,
    after deep-copying every filter (~0.5 ms), though neither changes; and its forms share its
    fields instead of deep-copying them too (core.api.query.SharedFields)."""
    return with_shared_fields(PropertyFilter(queryset=Property.objects.none()).get_form_class())


def property_criteria(data: dict, *, now=None) -> PropertyCriteria:
    """A PropertyFilter form's cleaned data as search criteria."""

    def given(name):
        value = data.get(name)
        return None if value in (None, "", [], ()) else value

    def number(name, kind=int):
        value = given(name)
        return None if value is None else kind(value)

    criteria = {
        "location": given("location"),
        "owner": given("owner"),
        "search_words": tuple(fold(given("search") or "").split()),
        "min_price": given("min_price"),
        "max_price": given("max_price"),
        "availability": given("available"),
        "guests": number("guests"),
        "room_types": tuple(sorted(set(given("room_type") or ()))),
        "property_types": tuple(sorted(set(given("property_type") or ()))),
        "min_bedrooms": number("min_bedrooms"),
        "min_beds": number("min_beds"),
        "min_bathrooms": number("min_bathrooms", Decimal),
        "amenities": tuple(given("amenities") or ()),
        "pets_allowed": given("pets_allowed"),
        "city_key": fold(given("city")) if given("city") else None,
        "country": given("country").upper() if given("country") else None,
        "ordering": given("ordering"),
    }
    if given("bounds"):
        south, west, north, east = data["bounds"]
        criteria.update(
            bounds_south=south,
            bounds_west=west,
            bounds_north=north,
            bounds_east=east,
            bounds_wraps=west > east,
        )
    if given("near"):
        latitude, longitude = data["near"]
        radius = float(given("radius_km") or DEFAULT_RADIUS_KM)
        south, west, north, east, wraps = near_box(
            latitude=latitude, longitude=longitude, radius_km=radius
        )
        criteria.update(
            near_latitude=latitude,
            near_longitude=longitude,
            near_radius_km=radius,
            near_south=south,
            near_west=west,
            near_north=north,
            near_east=east,
            near_wraps=wraps,
        )
    if given("check_in"):
        check_in, check_out = data["check_in"], data["check_out"]
        criteria.update(
            check_in=check_in,
            check_out=check_out,
            nights=(check_out - check_in).days,
            stay_guests=int(given("guests") or 1),
            now=now or timezone.now(),
        )
    return PropertyCriteria(**criteria)
