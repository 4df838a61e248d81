"""One error shape for the whole API: {"detail": str, "code": str}, plus
"errors": {field: [message]} on 400s that come from validation."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.errors import SERVICE_UNAVAILABLE, VALIDATION_ERROR, code_for_api_exception
from core.exceptions import ApplicationError, LoginThrottled
from core.views import RETRY_AFTER_SECONDS, log_unavailable, unavailable_detail

VALIDATION_DETAIL = "Invalid input."


def _flatten(detail) -> str:
    """The first human-readable message in a DRF detail, for the top-level "detail"."""
    if isinstance(detail, dict):
        return _flatten(next(iter(detail.values()), "")) if detail else ""
    if isinstance(detail, list):
        return _flatten(detail[0]) if detail else ""
    return str(detail)


def _messages(detail, prefix: str = "") -> list[str]:
    """A field's errors as the flat list of messages the schema promises: a list's or a nested
    object's errors (DRF keys them by index or name) become "<index>: <message>"."""
    if isinstance(detail, dict):
        return [
            message
            for key, value in detail.items()
            for message in _messages(value, prefix=f"{prefix}{key}: ")
        ]
    if isinstance(detail, list):
        return [message for item in detail for message in _messages(item, prefix=prefix)]
    return [f"{prefix}{detail}"]


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, LoginThrottled):
        # DRF's own 429: its message, and `Retry-After` from the wait the lock knows.
        exc = exceptions.Throttled(wait=exc.wait)

    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)

    unavailable = unavailable_detail(exc)
    if unavailable is not None:
        log_unavailable(context["request"], exc)
        return Response(
            {"detail": unavailable, "code": SERVICE_UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 renders it as JSON without internals

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors}  # DRF has already made a lone message a list
        flat = {field: _messages(messages) for field, messages in errors.items()}
        response.data = {"detail": VALIDATION_DETAIL, "code": VALIDATION_ERROR, "errors": flat}
        return response

    code = code_for_api_exception(getattr(exc, "default_code", ""))
    if isinstance(response.data, dict) and "detail" in response.data:
        # simplejwt adds its own "code" and "messages" to token errors; keep the shape uniform.
        response.data = {"detail": str(response.data["detail"]), "code": code}
    else:
        response.data = {"detail": _flatten(response.data), "code": code}
    return response
