import re
from datetime import timedelta
from decimal import Decimal

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from core.api import fields
from core.api.query import repeated_parameter_errors
from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS, latest_today, stay_shape_errors
from properties.models import MAX_GUESTS, MAX_PRICE_PER_NIGHT, CancellationPolicy
from rates.models import (
    MAX_DISCOUNT_PERCENT,
    MAX_NOTICE_DAYS,
    MAX_PREPARATION_NIGHTS,
    MAX_TAXES,
    Tax,
    weekdays_mask,
)
from rates.services import MAX_EDITS

MAX_CALENDAR_DAYS = 366
WEEKDAYS_HELP = "Weekday numbers, Monday 0 to Sunday 6."


ASCII_DECIMAL = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,4})?")


class DecimalField(serializers.DecimalField):
    """A JSON number or a plain ASCII decimal string; never a boolean, nor digits of other
    scripts (Decimal() reads fullwidth and Arabic-Indic digits as ASCII ones)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal | str):
            self.fail("invalid")
        if isinstance(data, str) and not ASCII_DECIMAL.fullmatch(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


def _amount(**kwargs) -> serializers.DecimalField:
    """A fee: 0 up to the highest nightly price, in cents."""
    return DecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_PRICE_PER_NIGHT,
        **kwargs,
    )


def _percent(**kwargs) -> serializers.DecimalField:
    return DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=MAX_DISCOUNT_PERCENT,
        **kwargs,
    )


class WeekdaysField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=fields.IntegerField(min_value=0, max_value=6),
            min_length=1,
            max_length=7,
            help_text=WEEKDAYS_HELP,
            **kwargs,
        )


class TaxSerializer(serializers.Serializer):
    name = fields.TextField(max_length=60)
    kind = serializers.ChoiceField(
        choices=Tax.Kind.choices,
        help_text="percent: of the stay's subtotal (nights, discount and fees); "
        "per_guest_night: an amount per guest per night.",
    )
    value = DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal("0.01"), max_value=MAX_PRICE_PER_NIGHT
    )

    def validate(self, attrs):
        if attrs["kind"] == Tax.Kind.PERCENT and attrs["value"] > 100:
            raise serializers.ValidationError({"value": ["A percentage cannot exceed 100."]})
        return attrs


@extend_schema_serializer(component_name="RatePlanUpdate")
class RatePlanInputSerializer(serializers.Serializer):
    """Every field optional: PUT resets the ones left out to their defaults (and taxes to
    none), PATCH leaves them as they are."""

    min_nights = fields.IntegerField(min_value=1, max_value=MAX_NIGHTS, required=False)
    max_nights = fields.IntegerField(min_value=1, max_value=MAX_NIGHTS, required=False)
    weekend_price = fields.MoneyField(
        max_value=MAX_PRICE_PER_NIGHT,
        allow_null=True,
        required=False,
        help_text="A weekend night's price; null: the listing's price_per_night.",
    )
    weekend_days = serializers.ListField(
        child=fields.IntegerField(min_value=0, max_value=6),
        max_length=7,
        required=False,
        help_text="The nights that take the weekend price: " + WEEKDAYS_HELP,
    )
    weekly_discount_percent = _percent(required=False, help_text="From 7 nights.")
    monthly_discount_percent = _percent(
        required=False, help_text="From 28 nights, instead of the weekly discount."
    )
    booking_window_days = fields.IntegerField(
        min_value=1,
        max_value=MAX_DAYS_AHEAD,
        required=False,
        help_text="How many days after the listing's today a stay may begin.",
    )
    advance_notice_days = fields.IntegerField(
        min_value=0,
        max_value=MAX_NOTICE_DAYS,
        required=False,
        help_text="N > 0: a stay arriving on day D can be booked until D - N days at the "
        "listing's check_in_from, local time. 0: until the end of day D.",
    )
    preparation_nights = fields.IntegerField(
        min_value=0,
        max_value=MAX_PREPARATION_NIGHTS,
        required=False,
        help_text="Free nights required between two stays.",
    )
    cleaning_fee = _amount(required=False)
    extra_guest_fee = _amount(
        required=False, help_text="Per night per guest above guests_included."
    )
    guests_included = fields.IntegerField(min_value=1, max_value=MAX_GUESTS, required=False)
    taxes = serializers.ListField(child=TaxSerializer(), required=False, max_length=MAX_TAXES)

    def validate_weekend_days(self, value):
        return weekdays_mask(value)


class RatePlanOutputSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    currency = serializers.CharField()
    min_nights = serializers.IntegerField()
    max_nights = serializers.IntegerField()
    weekend_price = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    weekend_days = serializers.ListField(child=serializers.IntegerField(), help_text=WEEKDAYS_HELP)
    weekly_discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    monthly_discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    booking_window_days = serializers.IntegerField()
    advance_notice_days = serializers.IntegerField()
    preparation_nights = serializers.IntegerField()
    cleaning_fee = serializers.DecimalField(max_digits=9, decimal_places=2)
    extra_guest_fee = serializers.DecimalField(max_digits=9, decimal_places=2)
    guests_included = serializers.IntegerField()
    taxes = TaxSerializer(many=True)


class RangeEditSerializer(serializers.Serializer):
    start = fields.DateField(help_text="The first date.")
    end = fields.DateField(help_text="The day after the last date (as a stay's check-out).")
    weekdays = WeekdaysField(required=False)
    price = fields.MoneyField(max_value=MAX_PRICE_PER_NIGHT, allow_null=True, required=False)
    min_nights = fields.IntegerField(
        min_value=1,
        max_value=MAX_NIGHTS,
        allow_null=True,
        required=False,
        help_text="The shortest stay arriving on these dates.",
    )
    closed = fields.BooleanField(allow_null=True, required=False)
    closed_to_arrival = fields.BooleanField(allow_null=True, required=False)
    closed_to_departure = fields.BooleanField(allow_null=True, required=False)


@extend_schema_serializer(component_name="RateDaysEdit")
class RateDaysInputSerializer(serializers.Serializer):
    edits = serializers.ListField(child=RangeEditSerializer(), min_length=1, max_length=MAX_EDITS)


class RateDaysOutputSerializer(serializers.Serializer):
    dates_changed = serializers.IntegerField()


class _WindowQuerySerializer(serializers.Serializer):
    def validate(self, attrs):
        repeated = repeated_parameter_errors(self.initial_data, list(self.fields))
        if repeated:
            raise serializers.ValidationError(repeated)
        return attrs


class CalendarQuerySerializer(_WindowQuerySerializer):
    """`?from=&to=`: context["today"] is the listing's date; default [today, today + 90)."""

    def get_fields(self):
        # "from" is a Python keyword, so the fields are declared here.
        return {
            "from": fields.DateField(required=False),
            "to": fields.DateField(required=False),
        }

    def validate(self, attrs):
        super().validate(attrs)
        today = self.context["today"]
        start = attrs.get("from") or today
        if start > today + timedelta(days=MAX_DAYS_AHEAD):
            raise serializers.ValidationError(
                {"from": [f"Cannot be more than {MAX_DAYS_AHEAD} days ahead."]}
            )
        # The past is shown (greyed out) for a year back; further back is no date picker's,
        # and keeps the arithmetic around the window far from year 1.
        if start < today - timedelta(days=MAX_CALENDAR_DAYS):
            raise serializers.ValidationError(
                {"from": [f"Cannot be more than {MAX_CALENDAR_DAYS} days in the past."]}
            )
        end = attrs.get("to") or start + timedelta(days=90)
        if end <= start:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        if (end - start).days > MAX_CALENDAR_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The window cannot be longer than {MAX_CALENDAR_DAYS} days."]}
            )
        return {"from": start, "to": end}


class QuoteQuerySerializer(_WindowQuerySerializer):
    check_in = fields.DateField()
    check_out = fields.DateField()
    guests = fields.IntegerField(min_value=1, max_value=MAX_GUESTS, required=False, default=1)

    def to_internal_value(self, data):
        # A query string carries text: guests=2 arrives as "2".
        data = data.copy()
        guests = data.get("guests")
        if isinstance(guests, str) and guests.isascii() and guests.isdigit():
            data["guests"] = int(guests)
        return super().to_internal_value(data)

    def validate(self, attrs):
        super().validate(attrs)
        errors = stay_shape_errors(check_in=attrs["check_in"], check_out=attrs["check_out"])
        if not errors and (attrs["check_in"] - latest_today()).days > MAX_DAYS_AHEAD:
            errors = {"check_in": [f"Check-in cannot be more than {MAX_DAYS_AHEAD} days ahead."]}
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class NightSerializer(serializers.Serializer):
    date = serializers.DateField()
    price = serializers.DecimalField(max_digits=9, decimal_places=2)


class LineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            "nights",
            "weekly_discount",
            "monthly_discount",
            "cleaning_fee",
            "extra_guests",
            "tax",
        ]
    )
    # DRF takes declared fields out of the class: this does not shadow Field.label.
    label = serializers.CharField()  # type: ignore[assignment]
    quantity = serializers.IntegerField()
    # 14 digits: a quote may price a stay past what a booking holds (and says it cannot be
    # booked); the largest the rules allow is under 10^12.
    unit_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Rounded half up to the currency's minor unit."
    )


class QuoteOutputSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    check_in = serializers.DateField()
    check_out = serializers.DateField()
    guests = serializers.IntegerField()
    bookable = serializers.BooleanField()
    instant_book = serializers.BooleanField(
        help_text="True: booking confirms at once; false: it is a request the host accepts."
    )
    cancellation_policy = serializers.ChoiceField(
        choices=CancellationPolicy.choices,
        help_text="The policy a booking made now would have (docs/booking-lifecycle.md).",
    )
    # An output serializer: its declared field does not replace Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Every reason the stay cannot be booked, by field (check_in, check_out, "
        "guests, nights, property); empty when bookable.",
    )
    nights = NightSerializer(many=True)
    lines = LineSerializer(many=True)
    total = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The sum of the lines."
    )
    currency = serializers.CharField()


class CalendarNightSerializer(serializers.Serializer):
    date = serializers.DateField()
    available = serializers.BooleanField(help_text="The night can be part of a stay.")
    price = serializers.DecimalField(max_digits=9, decimal_places=2)
    min_nights = serializers.IntegerField(help_text="The shortest stay arriving this day.")
    closed_to_arrival = serializers.BooleanField(help_text="No stay can begin this day.")
    closed_to_departure = serializers.BooleanField(help_text="No stay can end this day.")


class NightCalendarOutputSerializer(serializers.Serializer):
    property_id = serializers.IntegerField()
    currency = serializers.CharField()
    nights = CalendarNightSerializer(many=True)
