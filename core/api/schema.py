"""OpenAPI: every operation documents the errors it can really answer, in the one error shape.

`ApiAutoSchema` adds the statuses that follow from how a view is built (a body can be malformed
or too large, a bearer token can be bad, a path id can be unknown, a throttle can refuse, the
database can be down); views add the ones that come from their business rules with
`error_responses(...)` inside `extend_schema(responses=...)`."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from core.api.errors import error_codes

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
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Only on 400s from validation: messages per field or query parameter.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled when the schema is built, once every app has declared its domain errors.
        self.fields["code"].choices = error_codes()


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error-shape responses for `extend_schema(responses={...})`, described once here."""
    return {
        status: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status])
        for status in statuses
    }


class ApiAutoSchema(AutoSchema):
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
