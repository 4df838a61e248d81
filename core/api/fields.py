"""Serializer fields that accept exactly the JSON types the OpenAPI schema promises.

DRF is lenient by default: `"availability": 0` becomes False, `"last_name": 0` becomes "0",
`"property_id": "7"` becomes 7, `"check_in": "2030-6-1"` is a date. A client relying on that
breaks the day the schema is enforced elsewhere (a gateway, a generated client), and the fuzzer
rightly reports each as invalid input accepted. These fields refuse what the schema refuses."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from core.validators import email_normalize, validate_visible_multiline_text, validate_visible_text

# [0-9], never \d: in Python \d is every Unicode digit, so a date in Arabic-Indic digits or a
# price in fullwidth ones would match, and int()/Decimal() would read them as ASCII digits.
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
LOCAL_TIME = re.compile(r"[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?")
CENT = Decimal("0.01")


def text_pattern(*, allow_blank: bool) -> str:
    """What DRF's CharField takes, as a schema pattern: no NUL character (Django refuses it),
    and unless blank is allowed, something besides whitespace (which is trimmed away)."""
    return r"^[^\x00]*$" if allow_blank else r"^[^\x00]*[^\s\x00][^\x00]*$"


class CharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CharFieldSchema(OpenApiSerializerFieldExtension):
    target_class = CharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # A field with a RegexValidator (a username) gets that pattern from drf-spectacular.
        has_pattern = any(isinstance(v, RegexValidator) for v in self.target.validators)
        if direction == "request" and not has_pattern:
            blank = self.target.allow_blank or not self.target.trim_whitespace
            schema["pattern"] = text_pattern(allow_blank=blank)
        return schema


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


def positive_money_pattern(maximum: Decimal) -> str:
    """The decimal strings from 0.01 to `maximum` (a power of ten) with at most two decimals,
    no leading zeros: the bounds themselves, said in a form a schema validator can check."""
    zeros = len(str(int(maximum))) - 1
    if maximum != 10**zeros or zeros < 1:
        raise ValueError(f"positive_money_pattern needs a power of ten, not {maximum}")
    below = rf"[1-9][0-9]{{0,{zeros - 1}}}(\.[0-9]{{1,2}})?"  # 1 .. maximum - 0.01
    return rf"^({below}|1{'0' * zeros}(\.0{{1,2}})?|0\.(0[1-9]|[1-9][0-9]?))$"


class MoneyField(serializers.DecimalField):
    """A positive amount in cents up to `max_value` (a power of ten): a JSON number, or a plain
    decimal string like "75.50" so that clients never round-trip through a float; never a
    boolean. The schema states the same bounds (MoneyFieldSchema)."""

    def __init__(self, *, max_value: Decimal, **kwargs):
        self.string_pattern = positive_money_pattern(max_value)
        digits = len(str(int(max_value))) + 2
        super().__init__(
            max_digits=digits, decimal_places=2, min_value=CENT, max_value=max_value, **kwargs
        )
        self.string_regex = re.compile(self.string_pattern)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float | Decimal | str):
            self.fail("invalid")
        if isinstance(data, str) and not self.string_regex.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    target_class = MoneyField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "response":
            return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        number = {
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": int(self.target.max_value),
            "multipleOf": float(CENT),
        }
        string = {"type": "string", "pattern": self.target.string_pattern}
        return {"oneOf": [number, string]}
