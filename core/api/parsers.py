"""The one JSON parser of the API: DRF's, with the limits a public endpoint needs.

DRF's parser turns only ValueError into a 400; a body nested a thousand deep makes Python's
decoder raise RecursionError, which became an unauthenticated 500 on every JSON endpoint."""

from decimal import Decimal

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json

# No request body of this API nests deeper than 2 (an object of scalars); 32 leaves room for
# any endpoint to come and is far below the decoder's recursion limit.
MAX_DEPTH = 32


def _check_depth_and_strings(data) -> None:
    """ParseError if `data` nests deeper than MAX_DEPTH or holds a string that is not valid
    Unicode (a lone surrogate from a "\\ud800" escape: nothing could store or hash it).
    Iterative, so a deep document cannot exhaust the stack here either."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
            pending.extend((key, depth + 1) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ParseError("JSON parse error - a string holds a lone surrogate.") from exc


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser (NaN/Infinity refused: STRICT_JSON), plus:

    - nesting deeper than MAX_DEPTH, and any RecursionError, are a 400 (ParseError);
    - a lone surrogate in a string is a 400;
    - decimal literals become Decimal, not float: `75.10` arrives exactly, and `1e-16384` or
      `-1e200000` reach the field as what they are (too many digits, a 400 naming the field)
      instead of silently becoming 0.0 or -inf."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            # get_encoding is DRF's own (rest_framework/parsers.py); its stubs leave it out.
            encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
            text = stream.read().decode(encoding)
            data = json.loads(
                text,
                parse_float=Decimal,
                parse_constant=json.strict_constant if api_settings.STRICT_JSON else None,
            )
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from exc
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            raise ParseError(f"JSON parse error - {exc}") from exc
        _check_depth_and_strings(data)
        return data
