"""OpenAPI: every operation documents the errors it can really answer, in the one error shape.

`ApiAutoSchema` adds the statuses that follow from how a view is built (a body can be malformed
or too large, a bearer token can be bad, a path id can be unknown, a throttle can refuse, the
database can be down); views add the ones that come from their business rules with
`error_responses(...)` inside `extend_schema(responses=...)`."""

from datetime import date, timedelta
from typing import Any

from drf_spectacular.drainage import get_override, has_override
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.errors import error_codes
from core.stays import utc_today

ERROR_DESCRIPTIONS = {
    400: "Invalid input: `errors` names each field (or query parameter) and what is wrong.",
    401: "No, invalid, expired or revoked bearer token.",
    403: "Signed in, but not allowed to do this.",
    404: "No such resource, or not yours to see.",
    409: "Conflicts with the current state (dates taken, already cancelled, ...).",
    413: "Request body over the size limit (1 MiB).",
    415: "Request body is not application/json.",
    422: "Idempotency-Key already used with a different request.",
    429: "Too many requests: wait `Retry-After` seconds.",
    503: "The database or the cache is unreachable: retry after `Retry-After` seconds.",
}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "Seconds to wait before retrying.",
    }
}
# gunicorn, not Django, refuses an over-long request line; in the error shape all the same
# (gunicorn.conf.py replaces its HTML page).
URI_TOO_LONG_DESCRIPTION = (
    "Request line over 4094 bytes (gunicorn's limit), usually a query string far too long; "
    "answered by the HTTP server itself, before the view, with code `uri_too_long`."
)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, for a human.")
    code = serializers.ChoiceField(
        choices=[],
        help_text="What went wrong, for a program: stable, safe to branch on "
        "(e.g. `validation_error`, `not_authenticated`, `booking_conflict`, `throttled`).",
    )
    # The metaclass moves declared fields into _declared_fields, so Serializer.errors stays.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only on 400s from validation: messages per field or query parameter.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Filled when the schema is built, once every app has declared its domain errors.
        code = self.fields["code"]
        assert isinstance(code, serializers.ChoiceField)
        code.choices = error_codes()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error-shape responses for `extend_schema(responses={...})`, described once here."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


class ApiAutoSchema(AutoSchema):
    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        """Component names that read like what they are: a request body named on its serializer
        (`BookingCreate`, `ProfileUpdate`) is used as is, without drf-spectacular's `Request`
        suffix (nor `Patched` when all its fields are optional anyway); `...OutputSerializer`
        responses drop `Output` (`Booking`, `PaginatedBookingList`)."""
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        if is_list_serializer(serializer):
            return name
        if direction == "request" and has_override(serializer, "component_name"):
            explicit = get_override(serializer, "component_name")
            fields = serializer.fields.values()
            partial = getattr(serializer, "partial", False) and any(f.required for f in fields)
            return f"Patched{explicit}" if partial else explicit
        return name.removesuffix("Output")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._structural_error_statuses():
            if str(status) in responses:
                continue  # the view documented its own (e.g. the health check's 503 body)
            response = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]),
                str(status),
                direction=direction,
            )
            if status in (429, 503):
                response["headers"] = RETRY_AFTER
            responses[str(status)] = response
        if self._has_query_parameters() and "414" not in responses:
            responses["414"] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=URI_TOO_LONG_DESCRIPTION),
                "414",
                direction=direction,
            )
        return dict(sorted(responses.items()))

    def _has_query_parameters(self) -> bool:
        return any(parameter["in"] == "query" for parameter in self._get_parameters())

    def _structural_error_statuses(self) -> list[int]:
        statuses = []
        has_body = self.method in {"POST", "PUT", "PATCH"}
        if has_body or self._has_query_parameters():
            statuses.append(400)
        if self.view.get_authenticators():
            statuses.append(401)  # a bad token is refused even where no token is needed
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            statuses.append(404)  # unknown id, or a page past the end
        if has_body:
            statuses += [413, 415]
        if self.view.get_throttles():
            statuses.append(429)
        statuses.append(503)
        return statuses


# Examples name these placeholders; example_dates_hook puts in dates computed when the schema is
# generated, so that an example stay is always one the API would accept (a fixed date would
# fall into the past). The committed docs/openapi.json keeps the dates of its last `make schema`.
EXAMPLE_CHECK_IN = "<example check_in>"
EXAMPLE_CHECK_OUT = "<example check_out>"
EXAMPLE_CREATED_AT = "<example created_at>"


def example_stay(today: date) -> tuple[date, date]:
    """June 1 to 5 of next year: always ahead, never past the booking horizon (730 days)."""
    check_in = date(today.year + 1, 6, 1)
    return check_in, check_in + timedelta(days=4)


def _fill_example_dates(node, values: dict[str, str]):
    if isinstance(node, dict):
        return {key: _fill_example_dates(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill_example_dates(value, values) for value in node]
    if isinstance(node, str):
        return values.get(node, node)
    return node


def example_dates_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: the example placeholders become today's dates."""
    today = utc_today()
    check_in, check_out = example_stay(today)
    values = {
        EXAMPLE_CHECK_IN: check_in.isoformat(),
        EXAMPLE_CHECK_OUT: check_out.isoformat(),
        EXAMPLE_CREATED_AT: f"{today - timedelta(days=1)}T09:30:00Z",
    }
    return _fill_example_dates(result, values)
