"""Query-string rules every list endpoint shares: each parameter at most once, and a typed
parameter (number, date, choice) never empty. Otherwise `?max_price=1&max_price=9` would silently
use the last value and `?check_in=` would silently mean "no filter"."""

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.api.fields import ISO_DATE, MONEY_STRING

REPEATED = "Give this parameter at most once."
EMPTY = "This parameter cannot be empty."


def repeated_parameter_errors(query: QueryDict, names) -> dict[str, list[str]]:
    """Field errors for each of `names` given more than once in the query string."""
    return {name: [REPEATED] for name in names if len(query.getlist(name)) > 1}


class StrictFilterForm(forms.Form):
    """django-filter form: refuses repeated parameters and empty typed ones (400 naming them), and
    says which values a choice parameter takes when it gets another one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField):
                # The getter returns normalized (value, label) pairs; the stubs give it the
                # setter's wider input type (mappings, Choices classes, callables).
                choices = cast(Iterable[tuple[Any, Any]], field.choices)
                valid = ", ".join(str(value) for value, _ in choices if value != "")
                field.error_messages["invalid_choice"] = (
                    f"%(value)s is not one of the valid values: {valid}."
                )

    def clean(self):
        cleaned = super().clean()
        if isinstance(self.data, QueryDict):  # a plain dict (a form built in code) cannot repeat
            for name, messages in repeated_parameter_errors(self.data, self.fields).items():
                self.add_error(name, messages)
        for name, field in self.fields.items():
            # A text filter may be blank (it matches everything); a typed one may not.
            is_typed = not isinstance(field, forms.CharField)
            if is_typed and name not in self.errors and self.data.get(name) == "":
                self.add_error(name, EMPTY)
        return cleaned


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(filters.TypedChoiceFilter):
    """Exactly `true` or `false` (django-filter's BooleanFilter also takes 1, yes, on...)."""

    def __init__(self, **kwargs):
        super().__init__(
            choices=[("true", "true"), ("false", "false")],
            coerce=lambda value: value == "true",
            **kwargs,
        )


class IsoDateFormField(forms.DateField):
    """YYYY-MM-DD only; Django's DATE_INPUT_FORMATS would also take 10/25/2031 and 2031-1-5."""

    def to_python(self, value):
        if value not in self.empty_values and not ISO_DATE.fullmatch(str(value)):
            raise forms.ValidationError("Enter a date as YYYY-MM-DD.", code="invalid")
        return super().to_python(value)


class DateFilter(filters.DateFilter):
    field_class = IsoDateFormField


class MoneyFormField(forms.DecimalField):
    """A price as the money column holds it: up to 7 digits, and up to 2 decimals, in ASCII,
    without sign or exponent. django-filter's NumberFilter takes any Decimal below 1e50, so
    `1e-16384` and `-1e200000` reached PostgreSQL and overflowed numeric (a 500)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 9)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value not in self.empty_values and not MONEY_STRING.fullmatch(str(value)):
            raise forms.ValidationError(
                "Enter a price such as 75 or 75.50: ASCII digits, at most 7 before the point "
                "and 2 after, no sign or exponent.",
                code="invalid",
            )
        return super().to_python(value)
