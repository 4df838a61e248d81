from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from calendars.models import Hold
from core.api import fields
from core.validators import validate_visible_text


@extend_schema_serializer(component_name="BlockCreate")
class BlockInputSerializer(serializers.Serializer):
    start = fields.DateField(help_text="The first blocked night.")
    end = fields.DateField(help_text="The day after the last blocked night (exclusive).")
    note = serializers.CharField(
        max_length=500,
        required=False,
        default="",
        allow_blank=True,
        validators=[validate_visible_text],
        help_text="Private, for the host only.",
    )

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["Must be after start."]})
        return attrs


class BlockOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hold
        fields = ["id", "start", "end", "note", "created_at"]
        read_only_fields = fields
