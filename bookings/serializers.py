from datetime import timedelta
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from bookings.models import Booking
from core.api import fields
from core.api.query import repeated_parameter_errors
from core.stays import MAX_DAYS_AHEAD
from properties.models import MAX_GUESTS

MAX_DB_ID = 2**63 - 1
MAX_CALENDAR_DAYS = 366


@extend_schema_serializer(component_name="BookingCreate")
class BookingInputSerializer(serializers.Serializer):
    property_id = fields.IntegerField(min_value=1, max_value=MAX_DB_ID)
    check_in = fields.DateField()
    check_out = fields.DateField()
    guests = fields.IntegerField(
        min_value=1,
        max_value=MAX_GUESTS,
        required=False,
        default=1,
        help_text="How many people stay; at most the listing's max_guests.",
    )


class PriceLineSerializer(serializers.Serializer):
    """One line of the bill as the booking stored it (rates.pricing.Line)."""

    kind = serializers.CharField(
        help_text="nights, weekly_discount, monthly_discount, cleaning_fee, extra_guests or tax."
    )
    # DRF takes declared fields out of the class: this does not shadow Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    quantity = serializers.IntegerField()
    unit_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class BookingOutputSerializer(serializers.ModelSerializer):
    property = serializers.CharField(source="property.title", help_text="The property's title.")
    nights = serializers.IntegerField()
    price_lines = serializers.SerializerMethodField(
        help_text="The bill when the booking was made; total_price is their sum. Empty for "
        "bookings made before line items existed."
    )

    @extend_schema_field(PriceLineSerializer(many=True))
    def get_price_lines(self, booking) -> list:
        lines = (booking.price_lines or {}).get("lines", [])
        return list(
            PriceLineSerializer(
                [
                    {
                        **line,
                        "unit_amount": Decimal(line["unit_amount"]),
                        "amount": Decimal(line["amount"]),
                    }
                    for line in lines
                ],
                many=True,
            ).data
        )

    class Meta:
        model = Booking
        fields = [
            "id",
            "property",
            "property_id",
            "check_in",
            "check_out",
            "nights",
            "guests",
            "total_price",
            "currency",
            "price_lines",
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
    """`?from=&to=`: the window of a property's calendar, its local today + 365 days by default
    (context["today"] is the listing's date)."""

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
        today = self.context["today"]
        start = attrs.get("from") or today
        if start > today + timedelta(days=MAX_DAYS_AHEAD):
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
