"""The stable machine-readable `code` in every error body, so a client can branch on the kind of
error without parsing `detail` (which is prose and may change).

Domain errors carry their own (`core.exceptions`); DRF's and simplejwt's exceptions are mapped
from their `default_code`; the few errors Django or the middleware answer before DRF runs use
the names below. Renaming a code is a breaking change: the schema lists them all as an enum."""

from core.exceptions import ApplicationError

VALIDATION_ERROR = "validation_error"
BAD_REQUEST = "bad_request"
REQUEST_TOO_LARGE = "request_too_large"
NOT_FOUND = "not_found"
PERMISSION_DENIED = "permission_denied"
NOT_AUTHENTICATED = "not_authenticated"
CSRF_FAILED = "csrf_failed"
SERVER_ERROR = "server_error"
SERVICE_UNAVAILABLE = "service_unavailable"
# Answered before Django runs, for requests gunicorn or nginx cannot accept (gunicorn.conf.py,
# cluster/nginx.conf.template): the same shape, so a client needs no second error parser.
URI_TOO_LONG = "uri_too_long"
HEADERS_TOO_LARGE = "headers_too_large"
EXPECTATION_FAILED = "expectation_failed"
NOT_IMPLEMENTED = "not_implemented"

# DRF's default codes that read well as they are keep their name; the rest are renamed.
_DRF_CODES = {
    "invalid": VALIDATION_ERROR,
    "parse_error": "parse_error",
    "authentication_failed": "authentication_failed",
    "not_authenticated": NOT_AUTHENTICATED,
    "permission_denied": PERMISSION_DENIED,
    "not_found": NOT_FOUND,
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "throttled": "throttled",
    # simplejwt's InvalidToken: the same thing our own TokenInvalid reports.
    "token_not_valid": "token_invalid",
}

_HTTP_CODES = (
    BAD_REQUEST,
    REQUEST_TOO_LARGE,
    CSRF_FAILED,
    SERVER_ERROR,
    SERVICE_UNAVAILABLE,
    URI_TOO_LONG,
    HEADERS_TOO_LARGE,
    EXPECTATION_FAILED,
    NOT_IMPLEMENTED,
)


def code_for_api_exception(default_code: str) -> str:
    """Our code for a DRF (or DRF-derived) exception's `default_code`."""
    return _DRF_CODES.get(default_code, BAD_REQUEST)


def _application_codes(cls: type[ApplicationError]) -> set[str]:
    codes = {cls.code}
    for subclass in cls.__subclasses__():
        codes |= _application_codes(subclass)
    return codes


def error_codes() -> list[str]:
    """Every code an error body can carry (walked at call time, so a domain error declared in any
    app counts once its module is imported, as every app's is by the time a schema is built)."""
    codes = set(_DRF_CODES.values()) | set(_HTTP_CODES) | _application_codes(ApplicationError)
    return sorted(codes)
