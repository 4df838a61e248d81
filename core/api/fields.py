"""Serializer fields that accept exactly the JSON types the OpenAPI schema promises.

DRF is lenient by default: `"availability": 0` becomes False, `"last_name": 0` becomes "0",
`"property_id": "7"` becomes 7, `"check_in": "2030-6-1"` is a date. A client relying on that
breaks the day the schema is enforced elsewhere (a gateway, a generated client), and the fuzzer
rightly reports each as invalid input accepted. These fields refuse what the schema refuses."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from core.validators import email_normalize, validate_visible_multiline_text, validate_visible_text

# [0-9], never \d: in Python \d is every Unicode digit, so a date in Arabic-Indic digits or a
# price in fullwidth ones would match, and int()/Decimal() would read them as ASCII digits.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Money may also come as a decimal string ("75.50"), so that clients never round-trip through a
# float; the pattern is what the schema documents for that string. No sign, no exponent.
MONEY_STRING = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")
MONEY_STRING_PATTERN = r"^[0-9]{1,7}(\.[0-9]{1,2})?$"


class CharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(CharField):
    """Free text a person reads: no invisible or direction-changing characters
    (core.validators); `multiline` also allows line breaks and tabs."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(
            validate_visible_multiline_text if multiline else validate_visible_text
        )


class EmailField(serializers.EmailField):
    """An address in its normal form (core.validators.email_normalize), so uniqueness and
    storage see one spelling per mailbox."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)  # strips, refuses NUL bytes
        try:
            return email_normalize(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


class BooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class IntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateField(serializers.DateField):
    """ISO 8601 full dates only (YYYY-MM-DD), as OpenAPI's `format: date` says."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class MoneyField(serializers.DecimalField):
    """A JSON number, or a plain decimal string like "75.50"; never a boolean. JSON numbers
    arrive as int or Decimal (core.api.parsers), so their digits are checked exactly."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal | str):
            self.fail("invalid")
        if isinstance(data, str) and not MONEY_STRING.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MoneyField

    def map_serializer_field(self, auto_schema, direction):
        number = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            return number
        return {"oneOf": [number, {"type": "string", "pattern": MONEY_STRING_PATTERN}]}
