import logging
import re
import time
import uuid

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control

from core import metrics
from core.api import errors
from core.request_context import request_id_var
from core.views import json_error

request_logger = logging.getLogger("booking.request")

# The methods django-prometheus labels by name; any other is one label value.
_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
)


class MetricsMiddleware:
    """Requests, responses and latency per view and method (core/metrics.py), with the labels
    django-prometheus gives them. Labelled series are looked up once per process and kept:
    prometheus_client's labels() takes a lock and sorts keyword arguments on every call."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._series: dict[tuple, tuple] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = match.view_name if match else "<unnamed view>"
        method = request.method if request.method in _KNOWN_METHODS else "<invalid method>"
        transport = "https" if request.is_secure() else "http"
        # A resolved view always has a view_name (Django falls back to the function's dotted
        # path), so "<unnamed view>" means no view resolved: no request to a view to count.
        key = (view, transport, method, response.status_code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                metrics.HTTP_REQUESTS.labels(view=view, transport=transport, method=method)
                if match
                else None,
                metrics.HTTP_RESPONSES.labels(
                    status=str(response.status_code), view=view, method=method
                ),
                metrics.HTTP_LATENCY.labels(view=view, method=method),
            )
        requests, responses, latency = series
        if requests is not None:
            requests.inc()
        responses.inc()
        latency.observe(time.perf_counter() - started)
        return response


# A client-supplied id is echoed only if it is short and plain: it ends up in logs and headers.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestLogMiddleware:
    """One JSON log line per request (method, path template, status, duration, user, request id)
    and an `X-Request-ID` on every response: the caller's own if it sent a sane one, else new."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            match = request.resolver_match
            user = getattr(request, "user", None)
            request_logger.info(
                "request",
                extra={
                    "method": request.method,
                    # The route, not the path: ids stay out, so lines group by endpoint.
                    "path": match.route if match else request.path,
                    "view": match.view_name if match else None,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def _view_body_limit(request) -> int | None:
    """The larger limit a view declares with a `max_request_body_bytes()` class method (the
    photo upload), looked up only for a body over the default."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    view_class = getattr(match.func, "view_class", None)
    declared = getattr(view_class, "max_request_body_bytes", None)
    return declared() if declared is not None else None


class RequestBodyLimitMiddleware:
    """Refuse bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (or the view's own limit) with 413 before
    anything reads them.

    Django enforces that limit only when it reads the body itself (as HTML 400); DRF's parsers
    read the raw stream, so without this a large body would be parsed in full."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(
                "Content-Length header is not a number.", status=400, code=errors.BAD_REQUEST
            )
        if length > limit:
            limit = _view_body_limit(request) or limit
        if length > limit:
            return json_error(
                f"Request body exceeds the limit of {limit} bytes.",
                status=413,
                code=errors.REQUEST_TOO_LARGE,
            )
        return self.get_response(request)


class NoStoreByDefaultMiddleware:
    """`Cache-Control: no-store` on every answer that did not choose its own caching: tokens,
    profiles, bookings, host views, errors. Only answers that are the same public data for
    everyone opt in (the anonymous property list and detail), so forgetting to decide can
    never put a token or someone's bookings in a browser's or a proxy's cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True)
        return response
