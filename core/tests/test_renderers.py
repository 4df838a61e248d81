"""The API's JSON renderer (orjson) writes what DRF's JSONRenderer writes."""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict

from core.api.renderers import JSONRenderer

ours, drf = JSONRenderer(), DRFJSONRenderer()

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # beyond 64 bits: the fallback
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**7, min_value=-(10**7)
    )
    | st.decimals(allow_nan=False, allow_infinity=False, places=6, max_value=180, min_value=-180)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: f == 0 or 1e-4 <= abs(f) < 1e16
    )
    | st.text()
    | st.datetimes(timezones=st.just(UTC))
    | st.dates()
    | st.times()
    | st.uuids()
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_the_same_bytes_as_drf(value):
    assert ours.render(value) == drf.render(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_native_float_keeps_its_value_whatever_its_notation(value):
    assert json.loads(ours.render([value])) == json.loads(drf.render([value]))


@pytest.mark.parametrize(
    "value",
    [
        {"detail": ErrorDetail("Not found.", code="not_found")},
        ReturnDict(
            {"price": Decimal("75.00"), "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
            serializer=serializers.Serializer(),
        ),
        {"lazy": gettext_lazy("This field is required.")},
        {"line separators": "a\u2028b\u2029c", "emoji": "🏠", "quote": '"\\'},
        {"wait": timedelta(hours=1, seconds=1), "day": date(2027, 3, 1), "at": time(15, 30)},
        {"id": uuid.UUID(int=7), "tuple": (1, 2)},
        {1: "a key that is not a string"},
        {"big": 2**64},
        {"price": Decimal("0.000005"), "small": Decimal("1E-7"), "whole": Decimal("300")},
    ],
    ids=lambda value: ",".join(map(str, value)),
)
def test_what_the_api_returns_renders_as_drf_renders_it(value):
    assert ours.render(value) == drf.render(value)


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("Infinity"), Decimal("1E+400"), float("nan")]
)
def test_what_drf_refuses_is_refused(value):
    with pytest.raises(ValueError, match="not JSON compliant"):
        drf.render({"value": value})
    if isinstance(value, float):
        # orjson writes a native NaN as null; the API never has one (distance_km is finite).
        assert ours.render({"value": value}) == b'{"value":null}'
    else:
        with pytest.raises(ValueError, match="not JSON compliant"):
            ours.render({"value": value})


def test_an_indented_answer_is_drf_own():
    value = {"a": [1, Decimal("2.50")]}

    rendered = ours.render(value, "application/json; indent=2", {})

    assert rendered == drf.render(value, "application/json; indent=2", {})
    assert rendered.startswith(b"{\n  ")


def test_no_content_is_empty():
    assert ours.render(None) == b""


def test_the_api_answers_with_it():
    configured = list(api_settings.DEFAULT_RENDERER_CLASSES)

    assert configured == [JSONRenderer]  # type: ignore[comparison-overlap]  # classes, not names
