"""One error shape for the whole API: {"detail": str}, plus "errors": {field: [message]} on 400s
that come from validation."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError
from core.views import RETRY_AFTER_SECONDS, log_unavailable, unavailable_detail

VALIDATION_DETAIL = "Invalid input."


def _flatten(detail) -> str:
    """The first human-readable message in a DRF detail, for the top-level "detail"."""
    if isinstance(detail, dict):
        return _flatten(next(iter(detail.values()), "")) if detail else ""
    if isinstance(detail, list):
        return _flatten(detail[0]) if detail else ""
    return str(detail)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message}, status=exc.status_code)

    unavailable = unavailable_detail(exc)
    if unavailable is not None:
        log_unavailable(context["request"], exc)
        return Response(
            {"detail": unavailable},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 renders it as JSON without internals

    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail
        if not isinstance(errors, dict):
            errors = {"non_field_errors": errors if isinstance(errors, list) else [errors]}
        response.data = {"detail": VALIDATION_DETAIL, "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        # simplejwt adds "code" and "messages" to token errors; keep the shape uniform.
        response.data = {"detail": str(response.data["detail"])}
    else:
        response.data = {"detail": _flatten(response.data)}

    if response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data.setdefault("detail", "Authentication credentials were not provided.")
    return response
