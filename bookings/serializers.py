from datetime import timedelta
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from bookings.models import Booking, BookingRevision, BookingTransition
from bookings.selectors import booking_status_now
from bookings.transitions import TRANSITIONS_TEXT
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


STATUS_TEXT = (
    "The booking's state now: "
    + "; ".join(label for _, label in Booking.Status.choices)
    + ". A request past `expires_at` reads as expired and a confirmed stay whose check-out "
    "day has come (listing's time zone) as completed, even before a job stores it. "
    + "Transitions: "
    + TRANSITIONS_TEXT
)


class BookingTransitionOutputSerializer(serializers.ModelSerializer):
    """One step of the booking's history."""

    from_status = serializers.ChoiceField(
        choices=[("", "(new)"), *Booking.Status.choices],
        help_text="The state before; empty for the booking's creation.",
    )
    by = serializers.SerializerMethodField(
        help_text="Who: the guest or host's username; null for the system (expiry, completion)."
    )

    class Meta:
        model = BookingTransition
        fields = ["from_status", "to_status", "actor_role", "by", "reason", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "actor_role": {"help_text": "guest, host or system."},
        }

    def get_by(self, transition: BookingTransition) -> str | None:
        return transition.actor.username if transition.actor else None


class BookingRevisionOutputSerializer(serializers.ModelSerializer):
    """One change of dates or guests: the stay and amount before and after."""

    class Meta:
        model = BookingRevision
        fields = [
            "old_check_in",
            "old_check_out",
            "old_guests",
            "old_total_price",
            "new_check_in",
            "new_check_out",
            "new_guests",
            "new_total_price",
            "created_at",
        ]
        read_only_fields = fields


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
    status = serializers.SerializerMethodField(help_text=STATUS_TEXT)
    cancelled_by = serializers.ChoiceField(
        choices=[("", "(not cancelled)"), *Booking.Party.choices],
        help_text="guest or host once cancelled; empty otherwise.",
    )
    history = BookingTransitionOutputSerializer(
        source="transitions", many=True, help_text="Every state change, oldest first."
    )
    revisions = BookingRevisionOutputSerializer(
        many=True, help_text="Every change of dates or guests, oldest first."
    )
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
            "expires_at",
            "cancelled_at",
            "cancelled_by",
            "refund_amount",
            "cancellation_fee",
            "created_at",
            "history",
            "revisions",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "expires_at": {"help_text": "A request's deadline for the host; null otherwise."},
            "refund_amount": {"help_text": "Once cancelled: what the guest gets back."},
            "cancellation_fee": {
                "help_text": "Once cancelled: what is kept (refund_amount + cancellation_fee "
                "= total_price)."
            },
        }

    @extend_schema_field(serializers.ChoiceField(choices=Booking.Status.choices))
    def get_status(self, booking: Booking) -> str:
        current = getattr(booking, "current_status", None)
        return current or booking_status_now(booking)


class PropertyBookingOutputSerializer(BookingOutputSerializer):
    """A booking as the property's owner sees it: with the guest's username, never the email."""

    guest = serializers.CharField(source="guest.username")

    class Meta(BookingOutputSerializer.Meta):
        fields = [*BookingOutputSerializer.Meta.fields, "guest"]
        read_only_fields = fields


@extend_schema_serializer(component_name="BookingChange")
class BookingChangeInputSerializer(serializers.Serializer):
    """New dates and/or guest count; what is left out stays as it is."""

    check_in = fields.DateField(required=False)
    check_out = fields.DateField(required=False)
    guests = fields.IntegerField(min_value=1, max_value=MAX_GUESTS, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"check_in": ["Send check_in, check_out or guests to change."]}
            )
        check_in, check_out = attrs.get("check_in"), attrs.get("check_out")
        if check_in and check_out and check_out <= check_in:
            raise serializers.ValidationError({"check_out": ["Must be after check_in."]})
        return attrs


@extend_schema_serializer(component_name="BookingDecline")
class BookingDeclineInputSerializer(serializers.Serializer):
    message = fields.TextField(
        max_length=1000,
        required=False,
        default="",
        allow_blank=True,
        help_text="Optional, shown to the guest in the booking's history.",
    )


@extend_schema_serializer(component_name="BookingAccept")
class BookingAcceptInputSerializer(BookingDeclineInputSerializer):
    pass


@extend_schema_serializer(component_name="BookingHostCancel")
class BookingHostCancelInputSerializer(serializers.Serializer):
    reason = fields.TextField(
        max_length=1000, help_text="Required: why the stay is cancelled, shown to the guest."
    )


class CancellationPreviewOutputSerializer(serializers.Serializer):
    booking_id = serializers.IntegerField()
    is_cancellable = serializers.BooleanField(
        help_text="false once cancelled, declined, expired, completed or its check-in day has "
        "come; the amounts are then what cancelling would have given before."
    )
    policy = serializers.ChoiceField(
        choices=["flexible", "moderate", "strict"],
        help_text="The policy the booking was made under.",
    )
    policy_terms = serializers.CharField()
    total_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    refund_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    cancellation_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    refund_share = serializers.DecimalField(
        max_digits=3, decimal_places=2, help_text="The share of the nightly amount refunded."
    )
    next_deadline = serializers.DateTimeField(
        allow_null=True,
        help_text="When the refund next shrinks (the listing's local check-in time N days "
        "before check-in), or null past the last deadline.",
    )


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
