from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import RegexValidator
from django_countries import countries
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import fields
from core.local_time import validate_time_zone
from photos.models import Photo
from photos.selectors import photo_list
from photos.serializers import PhotoSerializer, photo_representation
from properties.models import (
    AMENITY_CODE_PATTERN,
    BATHROOM_STEPS,
    BOOKING_FIELDS,
    CAPACITY_FIELDS,
    CURRENCY_CODES,
    HOUSE_RULE_FIELDS,
    MAX_BEDS,
    MAX_GUESTS,
    MAX_PRICE_PER_NIGHT,
    MAX_ROOMS,
    PLACE_FIELDS,
    Amenity,
    CancellationPolicy,
    Property,
    PropertyType,
    RoomType,
)
from properties.selectors import SUMMARY_LENGTH, amenities_by_code


class AmenitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Amenity
        fields = ["code", "name", "category"]
        read_only_fields = fields


class StrictDecimalField(serializers.DecimalField):
    """A JSON number only (coordinates, bathrooms): never a string or a boolean."""

    def to_internal_value(self, data):
        # JSON numbers arrive as int or Decimal (core.api.parsers).
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """A string from the choices, and nothing DRF would coerce into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class CountryCodeField(StrictChoiceField):
    """ISO 3166-1 alpha-2, or blank; the model's CountryField holds a Country object."""

    def to_representation(self, value):
        return str(value or "")


AMENITY_CODE = RegexValidator(
    rf"^{AMENITY_CODE_PATTERN}$", "Give amenity codes from GET /api/amenities/."
)


class AmenityCodesField(serializers.ListField):
    """Amenity codes in and out; the serializer turns them into amenities with one query."""

    def to_representation(self, data):
        return [amenity.code for amenity in data.all()]


@extend_schema_field(
    {"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?$", "example": "15:00"}
)
class StrictTimeField(serializers.TimeField):
    """HH:MM or HH:MM:SS, local to the listing's time zone."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not fields.LOCAL_TIME.fullmatch(value):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


class PropertySerializer(serializers.ModelSerializer):
    """A listing, whole: what the detail shows and what a host sends. `owner` is the owner's
    username and is never taken from the body. Only the seed's five fields are required; the
    rest have defaults, and the place (city, country, coordinates, time zone) is worked out from
    what is given (properties/services.py, `property_place_fill`)."""

    owner = serializers.CharField(source="owner.username", read_only=True)
    title = fields.TextField(max_length=100)
    description = fields.TextField(
        multiline=True, max_length=5000, required=False, allow_blank=True, default=""
    )
    price_per_night = fields.MoneyField(
        max_value=MAX_PRICE_PER_NIGHT, error_messages={"min_value": "Must be greater than 0."}
    )
    currency = StrictChoiceField(
        choices=CURRENCY_CODES,
        required=False,
        help_text="ISO 4217 code of every amount about this listing; by default DEFAULT_CURRENCY.",
    )
    location = fields.TextField(max_length=255, help_text="The display line, e.g. a city.")
    availability = fields.BooleanField(required=False, default=True)

    room_type = StrictChoiceField(choices=RoomType.choices, required=False)
    property_type = StrictChoiceField(choices=PropertyType.choices, required=False)
    max_guests = fields.IntegerField(min_value=1, max_value=MAX_GUESTS, required=False)
    bedrooms = fields.IntegerField(min_value=0, max_value=MAX_ROOMS, required=False)
    beds = fields.IntegerField(min_value=0, max_value=MAX_BEDS, required=False)
    bathrooms = StrictDecimalField(
        max_digits=3,
        decimal_places=1,
        min_value=Decimal(0),
        max_value=Decimal(MAX_ROOMS),
        required=False,
        help_text="In halves: 1.5 is a full bathroom and a half bath.",
    )
    amenities = AmenityCodesField(
        child=fields.CharField(max_length=40, validators=[AMENITY_CODE]),
        max_length=100,
        required=False,
        help_text="Codes from GET /api/amenities/.",
    )

    check_in_from = StrictTimeField(required=False, help_text="Local time, HH:MM.")
    check_in_until = StrictTimeField(
        required=False, allow_null=True, help_text="Local time, HH:MM; null: any time."
    )
    check_out_until = StrictTimeField(required=False, help_text="Local time, HH:MM.")
    pets_allowed = fields.BooleanField(required=False)
    smoking_allowed = fields.BooleanField(required=False)
    events_allowed = fields.BooleanField(required=False)
    house_rules = fields.TextField(
        multiline=True, max_length=2000, required=False, allow_blank=True
    )

    street = fields.TextField(max_length=255, required=False, allow_blank=True)
    city = fields.TextField(max_length=100, required=False, allow_blank=True)
    region = fields.TextField(max_length=100, required=False, allow_blank=True)
    postal_code = fields.TextField(max_length=20, required=False, allow_blank=True)
    country = CountryCodeField(
        choices=[code for code, _ in countries],
        required=False,
        allow_blank=True,
        help_text="ISO 3166-1 alpha-2 code, e.g. KE.",
    )
    latitude = StrictDecimalField(
        max_digits=8,
        decimal_places=6,
        min_value=Decimal(-90),
        max_value=Decimal(90),
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    longitude = StrictDecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=Decimal(-180),
        max_value=Decimal(180),
        required=False,
        allow_null=True,
        coerce_to_string=False,
    )
    time_zone = fields.CharField(
        max_length=64,
        required=False,
        validators=[validate_time_zone],
        help_text="IANA name (e.g. Africa/Nairobi); from the coordinates or the city if not "
        "given. Every date rule of the listing (today, check-in days) is judged in it.",
    )

    instant_book = fields.BooleanField(
        required=False,
        help_text="true (default): a booking is confirmed at once. false: it is a request that "
        "holds its nights until the host accepts or declines it, or it expires.",
    )
    cancellation_policy = StrictChoiceField(
        choices=CancellationPolicy.choices,
        required=False,
        help_text="What a guest's cancellation refunds: flexible (default), moderate or strict; "
        "exact terms in docs/booking-lifecycle.md.",
    )

    cover_photo = serializers.SerializerMethodField(help_text="The first photo, or null.")
    photos = serializers.SerializerMethodField(
        help_text="Every photo in order (the detail only; list rows carry `cover_photo`)."
    )

    class Meta:
        model = Property
        fields = [
            "id",
            "title",
            "description",
            "price_per_night",
            "currency",
            "location",
            "availability",
            "owner",
            *BOOKING_FIELDS,
            *CAPACITY_FIELDS,
            "amenities",
            *HOUSE_RULE_FIELDS,
            *PLACE_FIELDS,
            "created_at",
            "updated_at",
            "cover_photo",
            "photos",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]
        # DRF's DateTimeField looks the current time zone up at every call (asgiref's Local:
        # ~5 µs, two per list row); the API never activates one, so it is given once.
        extra_kwargs = {
            name: {"default_timezone": ZoneInfo(settings.TIME_ZONE)}
            for name in ("created_at", "updated_at")
        }

    @extend_schema_field(PhotoSerializer(allow_null=True))
    def get_cover_photo(self, listing: Property) -> dict | None:
        photos = self._photos(listing)
        return photos[0] if photos else None

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, listing: Property) -> list[dict]:
        return self._photos(listing)

    def _photos(self, listing: Property) -> list[dict]:
        # One query, shared by both fields.
        cache: dict[int, list[dict]] = self.__dict__.setdefault("_photos_by_listing", {})
        if listing.pk not in cache:
            photos = photo_list(property_id=listing.pk)
            cache[listing.pk] = [photo_representation(photo) for photo in photos]
        return cache[listing.pk]

    def validate_amenities(self, codes: list[str]) -> list[Amenity]:
        amenities, unknown = amenities_by_code(codes=codes)
        if unknown:
            raise serializers.ValidationError(f"Unknown amenity codes: {', '.join(unknown)}.")
        return amenities

    def validate_bathrooms(self, value):
        if value not in BATHROOM_STEPS:
            raise serializers.ValidationError("Give bathrooms in halves (1, 1.5, 2, ...).")
        return value

    def validate(self, attrs):
        latitude = attrs.get("latitude", getattr(self.instance, "latitude", None))
        longitude = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            raise serializers.ValidationError({missing: ["Give latitude and longitude together."]})
        return attrs


class PropertyCardSerializer(serializers.Serializer):
    """A list row: what a listing card and a map pin need (built by
    property_row_representation, documented here). `distance_km` only with `near`."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    summary = serializers.CharField(help_text="The description's beginning (up to 160 chars).")
    price_per_night = serializers.DecimalField(max_digits=9, decimal_places=2)
    currency = serializers.CharField(help_text="ISO 4217.")
    location = serializers.CharField()
    availability = serializers.BooleanField()
    owner = serializers.CharField(help_text="The owner's username.")
    room_type = serializers.ChoiceField(choices=RoomType.choices)
    property_type = serializers.ChoiceField(choices=PropertyType.choices)
    max_guests = serializers.IntegerField()
    bedrooms = serializers.IntegerField()
    beds = serializers.IntegerField()
    bathrooms = serializers.DecimalField(max_digits=3, decimal_places=1)
    city = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2, or empty.")
    latitude = serializers.DecimalField(max_digits=8, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    time_zone = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    cover_photo = PhotoSerializer(allow_null=True, help_text="The first photo, or null.")
    distance_km = serializers.FloatField(
        required=False, help_text="Great-circle distance from `near`, in km; only with near."
    )


# The list's hot path skips model instances and per-row serializer machinery (~1 ms per 20
# rows): the same DRF fields format the values, so a row's values are byte for byte the
# detail's (tests compare them).
_FIELDS = PropertySerializer().fields
_PRICE, _TIMESTAMP = _FIELDS["price_per_night"], _FIELDS["created_at"]
_BATHROOMS, _LATITUDE, _LONGITUDE = _FIELDS["bathrooms"], _FIELDS["latitude"], _FIELDS["longitude"]


def summary_of(description: str) -> str:
    """The description's first SUMMARY_LENGTH characters, cut at a word, with an ellipsis."""
    if len(description) <= SUMMARY_LENGTH:
        return description
    words = description[:SUMMARY_LENGTH].rsplit(maxsplit=1)
    cut = words[0].rstrip(" ,.;:") if words else ""
    return f"{cut}…"


def _optional(field, value):
    return None if value is None else field.to_representation(value)


def property_row_representation(row: dict) -> dict:
    """A list row, from a row of properties.selectors.property_page_rows."""
    cover = row["cover_photo"]
    representation = {
        "id": row["id"],
        "title": row["title"],
        "summary": summary_of(row["summary_source"]),
        "price_per_night": _PRICE.to_representation(row["price_per_night"]),
        "currency": row["currency"],
        "location": row["location"],
        "availability": row["availability"],
        "owner": row["owner_username"],
        "room_type": row["room_type"],
        "property_type": row["property_type"],
        "max_guests": row["max_guests"],
        "bedrooms": row["bedrooms"],
        "beds": row["beds"],
        "bathrooms": _BATHROOMS.to_representation(row["bathrooms"]),
        "city": row["city"],
        "country": row["country"],
        "latitude": _optional(_LATITUDE, row["latitude"]),
        "longitude": _optional(_LONGITUDE, row["longitude"]),
        "time_zone": row["time_zone"],
        "created_at": _TIMESTAMP.to_representation(row["created_at"]),
        "updated_at": _TIMESTAMP.to_representation(row["updated_at"]),
        "cover_photo": photo_representation(cover) if cover is not None else None,
    }
    if "distance_km" in row:
        representation["distance_km"] = round(row["distance_km"], 3)
    return representation


def property_detail_representation(
    row: dict, amenity_codes: list[str], photos: list[Photo]
) -> dict:
    """PropertySerializer's representation of a listing, from properties.selectors.
    property_detail_parts: the same DRF fields format each value (tests compare the two), without
    building the serializer's fields anew per request (~1 ms)."""
    shown_photos = [photo_representation(photo) for photo in photos]
    representation = {}
    for name in PropertySerializer.Meta.fields:
        if name == "owner":
            representation[name] = row["owner_username"]
        elif name == "amenities":
            representation[name] = amenity_codes
        elif name == "cover_photo":
            representation[name] = shown_photos[0] if shown_photos else None
        elif name == "photos":
            representation[name] = shown_photos
        else:
            representation[name] = _optional(_FIELDS[name], row[name])
    return representation
