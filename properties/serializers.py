from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import fields
from photos.selectors import photo_list
from photos.serializers import PhotoSerializer, photo_representation
from properties.models import MAX_PRICE_PER_NIGHT, Property


class PropertySerializer(serializers.ModelSerializer):
    """Plain CRUD shape. `owner` is the owner's username and is never taken from the body."""

    owner = serializers.CharField(source="owner.username", read_only=True)
    title = fields.TextField(max_length=100)
    description = fields.TextField(
        multiline=True, max_length=5000, required=False, allow_blank=True, default=""
    )
    price_per_night = fields.MoneyField(
        max_value=MAX_PRICE_PER_NIGHT, error_messages={"min_value": "Must be greater than 0."}
    )
    location = fields.TextField(max_length=255)
    availability = fields.BooleanField(required=False, default=True)
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
            "location",
            "availability",
            "owner",
            "created_at",
            "updated_at",
            "cover_photo",
            "photos",
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    @extend_schema_field(PhotoSerializer(allow_null=True))
    def get_cover_photo(self, listing: Property) -> dict | None:
        photos = self._photos(listing)
        return photos[0] if photos else None

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, listing: Property) -> list[dict]:
        return self._photos(listing)

    def _photos(self, listing: Property) -> list[dict]:
        # A write's answer: one query, shared by both fields.
        cache: dict[int, list[dict]] = self.__dict__.setdefault("_photos_by_listing", {})
        if listing.pk not in cache:
            photos = photo_list(property_id=listing.pk)
            cache[listing.pk] = [photo_representation(photo) for photo in photos]
        return cache[listing.pk]


class PropertyListItemSerializer(PropertySerializer):
    """A list row: the detail without `photos` (documentation; the list renders plain rows)."""

    class Meta(PropertySerializer.Meta):
        fields = [name for name in PropertySerializer.Meta.fields if name != "photos"]


# The list's hot path skips model instances and per-row serializer machinery (~1 ms per 20
# rows): the same DRF fields format the values, so the JSON is byte for byte PropertySerializer's
# (tests compare them).
_FIELDS = PropertySerializer().fields
_PRICE, _TIMESTAMP = _FIELDS["price_per_night"], _FIELDS["created_at"]


def property_row_representation(row: dict) -> dict:
    """PropertySerializer's representation of a row from property_detail_row, or
    PropertyListItemSerializer's of one from property_page_rows (no `photos`)."""
    cover = row["cover_photo"]
    representation = {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "price_per_night": _PRICE.to_representation(row["price_per_night"]),
        "location": row["location"],
        "availability": row["availability"],
        "owner": row["owner_username"],
        "created_at": _TIMESTAMP.to_representation(row["created_at"]),
        "updated_at": _TIMESTAMP.to_representation(row["updated_at"]),
        "cover_photo": photo_representation(cover) if cover is not None else None,
    }
    if "photos" in row:
        representation["photos"] = [photo_representation(photo) for photo in row["photos"]]
    return representation
