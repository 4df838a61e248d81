"""Django-level error handlers: under /api/ they answer in the API's JSON error shape; elsewhere
(the admin) Django's own pages stay."""

import logging
import sys

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api import errors

logger = logging.getLogger(__name__)


def json_error(detail: str, *, status: int, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception, template_name="400.html"):
    if isinstance(exception, RequestDataTooBig):
        return json_error("Request body is too large.", status=413, code=errors.REQUEST_TOO_LARGE)
    if _is_api(request):
        return json_error("Bad request.", status=400, code=errors.BAD_REQUEST)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception, template_name="403.html"):
    if _is_api(request):
        return json_error(
            "You do not have permission to perform this action.",
            status=403,
            code=errors.PERMISSION_DENIED,
        )
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception, template_name="404.html"):
    if _is_api(request):
        return json_error("Not found.", status=404, code=errors.NOT_FOUND)
    return defaults.page_not_found(request, exception)


def server_error(request, template_name="500.html"):
    # Django calls this while handling the exception, so it is still the current one: a
    # database or cache that went away (outside a DRF view) is a 503 to retry, not a bug.
    exc = sys.exc_info()[1]
    detail = unavailable_detail(exc)
    if _is_api(request) and exc is not None and detail is not None:
        log_unavailable(request, exc)
        return service_unavailable(detail)
    if _is_api(request):
        return json_error("Internal server error.", status=500, code=errors.SERVER_ERROR)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: JSON under /api/ (the API itself uses tokens, not cookies)."""
    if _is_api(request):
        return json_error("CSRF verification failed.", status=403, code=errors.CSRF_FAILED)
    return csrf.csrf_failure(request, reason=reason)


DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."
CACHE_UNAVAILABLE = "The cache is unavailable; try again shortly."
RETRY_AFTER_SECONDS = 5


def unavailable_detail(exc: BaseException | None) -> str | None:
    """The 503 message when `exc` means a service the API stands on cannot be reached (the
    database, or Redis with REDIS_URL), else None. Redis is not optional once configured: it
    holds the throttle and failed-login counters, and failing open would lift those limits."""
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE_UNAVAILABLE
    # ReadOnlyError: still talking to a primary demoted by a failover; OutOfMemoryError: a full
    # Redis with the noeviction policy. Both pass once the operator has acted.
    if isinstance(
        exc,
        redis.ConnectionError
        | redis.TimeoutError
        | redis.exceptions.ReadOnlyError
        | redis.exceptions.OutOfMemoryError,
    ):
        return CACHE_UNAVAILABLE
    return None


def log_unavailable(request, exc: BaseException) -> None:
    logger.error("%s during %s %s: %r", unavailable_detail(exc), request.method, request.path, exc)


def service_unavailable(detail: str) -> JsonResponse:
    """503 for a service that cannot be reached: the client should retry, not give up."""
    response = json_error(detail, status=503, code=errors.SERVICE_UNAVAILABLE)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@require_safe
def index(request):
    """GET /: what this service is and where to read about it, for a person or a script that
    lands on the bare host."""
    links = {
        name: request.build_absolute_uri(reverse(url_name))
        for name, url_name in [
            ("docs", "swagger-ui"),
            ("redoc", "redoc"),
            ("schema", "schema"),
            ("health", "health"),
        ]
    }
    return JsonResponse(
        {
            "name": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "links": links,
        }
    )


# Exempt: an unknown URL is a 404 whatever the method; CSRF's 403 would only hide that.
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """Catch-all for unknown /api/ URLs, so they are JSON even with DEBUG on."""
    return json_error("Not found.", status=404, code=errors.NOT_FOUND)


def _cache_is_redis() -> bool:
    return isinstance(caches["shared"], RedisCache)


@extend_schema(
    tags=["operations"],
    summary="Health check",
    description="For load balancers: 200 while the app answers and its database too, else a "
    "503 with `Retry-After`. No authentication, no rate limit.",
    responses={
        200: inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "cache": serializers.CharField(required=False, help_text="With REDIS_URL only."),
            },
        ),
        503: inline_serializer(
            "HealthDown",
            {
                "detail": serializers.CharField(),
                "code": serializers.CharField(),
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "cache": serializers.CharField(required=False, help_text="With REDIS_URL only."),
            },
        ),
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """Liveness, and whether the services every instance needs answer: the database, and Redis
    when it is configured (logins and every throttled request need it). 503 if either does not."""
    report = {"status": "ok", "database": "ok"}
    details = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("health check: database unavailable", exc_info=True)
        report["database"] = "unavailable"
        details.append(DATABASE_UNAVAILABLE)
    if _cache_is_redis():
        report["cache"] = "ok"
        try:
            caches["shared"].get("health-check")
        except (redis.ConnectionError, redis.TimeoutError):
            logger.warning("health check: cache unavailable", exc_info=True)
            report["cache"] = "unavailable"
            details.append(CACHE_UNAVAILABLE)
    if details:
        return Response(
            {
                "detail": " ".join(details),
                "code": errors.SERVICE_UNAVAILABLE,
                **report,
                "status": "unavailable",
            },
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return Response(report)


def metrics(request):
    """Prometheus scrape endpoint: 404 when METRICS_ENABLED is false; with METRICS_TOKEN set,
    only `Authorization: Bearer <token>` may read it."""
    if not settings.METRICS_ENABLED:
        raise Http404
    if settings.METRICS_TOKEN:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not constant_time_compare(presented, settings.METRICS_TOKEN):
            return json_error(
                "A valid metrics token is required.", status=401, code=errors.NOT_AUTHENTICATED
            )
    return ExportToDjangoView(request)
