"""Query-string rules every list endpoint shares: each parameter at most once, and a typed
parameter (number, date, choice) never empty. Otherwise `?max_price=1&max_price=9` would silently
use the last value and `?check_in=` would silently mean "no filter"."""

import re
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from django import forms
from django.http import QueryDict
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.api.fields import ISO_DATE

REPEATED = "Give this parameter at most once."
EMPTY = "This parameter cannot be empty."


def repeated_parameter_errors(query: QueryDict, names) -> dict[str, list[str]]:
    """Field errors for each of `names` given more than once in the query string."""
    return {name: [REPEATED] for name in names if len(query.getlist(name)) > 1}


FormT = TypeVar("FormT", bound=forms.Form)


def _name_valid_choices(fields: dict[str, forms.Field]) -> None:
    for field in fields.values():
        if isinstance(field, forms.ChoiceField):
            # The getter returns normalized (value, label) pairs; the stubs give it the setter's
            # wider input type (mappings, Choices classes, callables).
            choices = cast(Iterable[tuple[Any, Any]], field.choices)
            valid = ", ".join(str(value) for value, _ in choices if value != "")
            field.error_messages["invalid_choice"] = (
                f"%(value)s is not one of the valid values: {valid}."
            )


class SharedFields(dict):
    """A form class's fields, shared by its forms instead of deep-copied into each one.

    Django deep-copies every field (widget, validators, choices) for each form, so that one
    form may change its fields without touching the others'. A filter form only validates a
    query string: nothing changes a field after the class is built, and for the property
    search the copy cost more than the validation (docs/benchmarks.md)."""

    def __deepcopy__(self, memo):
        return dict(self)


def with_shared_fields(form_class: type[FormT]) -> type[FormT]:
    """`form_class`, changed so that its forms share its fields (SharedFields)."""
    _name_valid_choices(form_class.base_fields)
    form_class.base_fields = SharedFields(form_class.base_fields)
    return form_class


class StrictFilterForm(forms.Form):
    """django-filter form: refuses repeated parameters and empty typed ones (400 naming them), and
    says which values a choice parameter takes when it gets another one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not isinstance(self.base_fields, SharedFields):  # shared ones were named once
            _name_valid_choices(self.fields)

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


class AsciiDecimalFormField(forms.DecimalField):
    """A number in a query string as its column holds it: ASCII digits, at most
    max_digits - decimal_places before the point and decimal_places after, no sign or exponent.
    django-filter's NumberFilter takes any Decimal below 1e50 (`1e-16384` and `-1e200000`
    reached PostgreSQL and overflowed numeric, a 500), and Decimal() reads fullwidth and other
    scripts' digits as ASCII ones. Defaults: a price (9 digits, 2 decimals)."""

    def __init__(self, **kwargs):
        max_digits = kwargs.setdefault("max_digits", 9)
        decimal_places = kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)
        self.whole_digits = max_digits - decimal_places
        fraction = rf"(\.[0-9]{{1,{decimal_places}}})?" if decimal_places else ""
        self.shape = re.compile(rf"[0-9]{{1,{self.whole_digits}}}{fraction}")

    def to_python(self, value):
        if value not in self.empty_values and not self.shape.fullmatch(str(value)):
            after = f" and {self.decimal_places} after" if self.decimal_places else ""
            raise forms.ValidationError(
                f"Enter a plain number: ASCII digits, at most {self.whole_digits} before the "
                f"point{after}, no sign or exponent.",
                code="invalid",
            )
        return super().to_python(value)


class AsciiNumberFilter(filters.NumberFilter):
    """NumberFilter with the exact shape of AsciiDecimalFormField."""

    field_class = AsciiDecimalFormField
