from rest_framework import serializers

from core.api import fields
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
        ]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


# The list's hot path skips model instances and per-row serializer machinery (~1 ms per 20
# rows): the same DRF fields format the values, so the JSON is byte for byte PropertySerializer's
# (tests compare them).
_FIELDS = PropertySerializer().fields
_PRICE, _TIMESTAMP = _FIELDS["price_per_night"], _FIELDS["created_at"]


def property_row_representation(row: dict) -> dict:
    """PropertySerializer's representation of a row from property_page_rows."""
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "price_per_night": _PRICE.to_representation(row["price_per_night"]),
        "location": row["location"],
        "availability": row["availability"],
        "owner": row["owner_username"],
        "created_at": _TIMESTAMP.to_representation(row["created_at"]),
        "updated_at": _TIMESTAMP.to_representation(row["updated_at"]),
    }
