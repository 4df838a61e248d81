from datetime import timedelta

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from bookings.models import Booking
from core.api import fields
from core.api.query import repeated_parameter_errors
from core.stays import MAX_DAYS_AHEAD, latest_check_in, utc_today

MAX_DB_ID = 2**63 - 1
MAX_CALENDAR_DAYS = 366


@extend_schema_serializer(component_name="BookingCreate")
class BookingInputSerializer(serializers.Serializer):
    property_id = fields.IntegerField(min_value=1, max_value=MAX_DB_ID)
    check_in = fields.DateField()
    check_out = fields.DateField()


class BookingOutputSerializer(serializers.ModelSerializer):
    property = serializers.CharField(source="property.title", help_text="The property's title.")
    nights = serializers.IntegerField()

    class Meta:
        model = Booking
        fields = [
            "id",
            "property",
            "property_id",
            "check_in",
            "check_out",
            "nights",
            "total_price",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class PropertyBookingOutputSerializer(BookingOutputSerializer):
    """A booking as the property's owner sees it: with the guest's username."""

    guest = serializers.CharField(source="guest.username")

    class Meta(BookingOutputSerializer.Meta):
        fields = [*BookingOutputSerializer.Meta.fields, "guest"]
        read_only_fields = fields


class CalendarQuerySerializer(serializers.Serializer):
    """`?from=&to=`: the window of a property's calendar, today + 365 days by default."""

    def get_fields(self):
        # "from" is a Python keyword, so the fields are declared here rather than as attributes.
        return {
            "from": fields.DateField(required=False),
            "to": fields.DateField(required=False),
        }

    def validate(self, attrs):
        repeated = repeated_parameter_errors(self.initial_data, ("from", "to"))
        if repeated:
            raise serializers.ValidationError(repeated)
        start = attrs.get("from") or utc_today()
        if start > latest_check_in():
            # Also keeps `start + 365 days` far from date.max (year 9999).
            raise serializers.ValidationError(
                {"from": [f"Cannot be more than {MAX_DAYS_AHEAD} days ahead."]}
            )
        end = attrs.get("to") or start + timedelta(days=365)
        if end <= start:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        if (end - start).days > MAX_CALENDAR_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The window cannot be longer than {MAX_CALENDAR_DAYS} days."]}
            )
        return {"from": start, "to": end}


class StaySerializer(serializers.Serializer):
    check_in = serializers.DateField()
    check_out = serializers.DateField()


class CalendarOutputSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    booked = StaySerializer(many=True)
