"""Metrics served at /metrics, next to django-prometheus' database series: the domain's
counters, and the HTTP series core.middleware.MetricsMiddleware writes.

Under gunicorn each worker writes its samples to PROMETHEUS_MULTIPROC_DIR and /metrics sums
them (gunicorn.conf.py). The domain counters' label values are fixed, known sets, so each of
their series exists from start-up at 0 instead of appearing on its first event; the HTTP
series appear with each view's first request, as django-prometheus' did."""

from django_prometheus.conf import NAMESPACE as PROMETHEUS_NAMESPACE
from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS
from prometheus_client import Counter, Histogram

BOOKINGS_CREATED = Counter(
    "booking_bookings_created", "Bookings confirmed (counted when their transaction commits)."
)
BOOKING_CONFLICTS = Counter(
    "booking_booking_conflicts", "Booking attempts refused because the dates were taken (409)."
)
BOOKINGS_CANCELLED = Counter(
    "booking_bookings_cancelled", "Bookings cancelled (counted when their transaction commits)."
)
IDEMPOTENT_REPLAYS = Counter(
    "booking_idempotent_replays",
    "Booking requests answered with the booking an earlier request with the same "
    "Idempotency-Key created.",
)
LOGIN_FAILURES = Counter(
    "booking_login_failures",
    "Failed password checks: logins (401) and current-password confirmations, which count "
    "against the same failed-login limits.",
)
LOGIN_LOCKOUTS = Counter(
    "booking_login_lockouts",
    "Password checks refused because too many failed before them (429), by the limit that "
    "refused them.",
    ["scope"],
)
CACHE_LOOKUPS = Counter(
    "booking_cache_lookups",
    "Reads of the generation cache: public property responses (cache=response, with Redis "
    "only) and the unfiltered property count (cache=property_count).",
    ["cache", "result"],
)

for _scope in ("login_username", "login_address"):
    LOGIN_LOCKOUTS.labels(scope=_scope)
for _cache in ("response", "property_count"):
    for _result in ("hit", "miss"):
        CACHE_LOOKUPS.labels(cache=_cache, result=_result)

# The HTTP series django-prometheus' middleware pair writes that the README documents, under
# the same names, labels and buckets. Its pair updates 12 series per request (body sizes,
# charsets, per-transport and before-middleware copies); in multiprocess mode each update is a
# locked write to a memory-mapped file, and the pair cost 0.10-0.15 ms of a health check's 0.8 ms
# in process (docs/benchmarks.md, section 13). core.middleware.MetricsMiddleware writes these three.
HTTP_REQUESTS = Counter(
    "django_http_requests_total_by_view_transport_method",
    "Count of requests by view, transport, method.",
    ["view", "transport", "method"],
    namespace=PROMETHEUS_NAMESPACE,
)
HTTP_RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Count of responses by status, view, method.",
    ["status", "view", "method"],
    namespace=PROMETHEUS_NAMESPACE,
)
HTTP_LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Histogram of request processing time labelled by view.",
    ["view", "method"],
    buckets=PROMETHEUS_LATENCY_BUCKETS,
    namespace=PROMETHEUS_NAMESPACE,
)
