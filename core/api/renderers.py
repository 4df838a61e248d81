"""DRF's JSON renderer, with orjson writing the bytes."""

import math
from decimal import Decimal

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_drf_default = JSONEncoder().default
# orjson hands these to `default` instead of writing them its own way, so that dates, times and
# dataclasses come out exactly as DRF writes them (or fail as they would).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value):
    if isinstance(value, Decimal):
        number = float(value)
        if not math.isfinite(number):
            # NaN, infinities and what overflows a float: DRF refuses them (STRICT_JSON), and
            # so does the fallback.
            raise TypeError
        # As DRF writes a Decimal: float(), then Python's repr of that float.
        return orjson.Fragment(repr(number))
    return _drf_default(value)


class JSONRenderer(renderers.JSONRenderer):
    """The same bytes as DRF's JSONRenderer for everything the API returns, from orjson (a 20-row
    page: 141 → 64 µs, docs/benchmarks.md item 14). Whatever orjson cannot write as DRF would
    (an integer beyond 64 bits, a key that is not a string, an indented answer asked for with
    `Accept: application/json; indent=2`, an invalid string) goes to DRF's renderer, which
    writes it or raises as before. Differences left, none of which the API returns: a native
    float (only `distance_km`, rounded to metres) below 1e-4 or from 1e16 is written in another,
    equal notation (0.00001 rather than 1e-05); a float NaN or infinity is written as null and
    a plain Enum as its value (DRF refuses both); a dict subclass is written in its storage
    order without calling its items() (DRF's ReturnDict is a plain dict)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is None:
            try:
                rendered = orjson.dumps(data, default=_default, option=_OPTIONS)
            except orjson.JSONEncodeError:
                pass
            else:
                # DRF escapes these two so that the JSON is also valid JavaScript.
                if b"\xe2\x80\xa8" in rendered or b"\xe2\x80\xa9" in rendered:
                    rendered = rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                        b"\xe2\x80\xa9", b"\\u2029"
                    )
                return rendered
        return super().render(data, accepted_media_type, renderer_context)
