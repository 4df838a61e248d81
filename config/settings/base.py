"""Every setting, with safe development defaults. Production differs only by environment values."""

import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# --- Core ------------------------------------------------------------------------------------
# Off unless asked for: `make run` is production-like; `make dev` (runserver) sets DEBUG=true.
DEBUG = env_bool("DEBUG", default=False)

# The environment first, then a file (Docker secrets; `make run` writes a random key to
# .secret_key once). Settings never invent a key themselves: instances that each made their own
# would refuse each other's tokens, so production without one must fail at start-up.
SECRET_KEY_FILE = Path(env_str("SECRET_KEY_FILE") or BASE_DIR / ".secret_key")
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and SECRET_KEY_FILE.is_file():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
    if not SECRET_KEY:
        raise ImproperlyConfigured(f"SECRET_KEY_FILE {SECRET_KEY_FILE} is empty.")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is false: in the environment, or in the file "
            f"named by SECRET_KEY_FILE ({SECRET_KEY_FILE}, which `make run` creates), e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(64))'."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "core",
    "accounts",
    "properties",
    "calendars",
    "rates",
    "bookings",
    "photos",
]

MIDDLEWARE = [
    "core.middleware.RequestLogMiddleware",
    # Before the body limit, so that every answer (a 413 included) carries the CORS headers a
    # browser needs.
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag (a hash of the body) on cacheable GET answers, and 304 for a matching If-None-Match;
    # no-store answers get none. Inside it, no-store is the default (core/middleware.py).
    "django.middleware.http.ConditionalGetMiddleware",
    "core.middleware.NoStoreByDefaultMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, where django-prometheus' middleware measured: the view's own answer and time.
    "core.middleware.MetricsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# Time zones come from the pinned tzdata package only, never the host's /usr/share/zoneinfo: a
# listing's zone must mean the same on every instance, whatever image it runs on.
zoneinfo.reset_tzpath(to=[])
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# gunicorn serves the admin's and the API docs' assets through WhiteNoise, straight from the apps'
# static folders: no collectstatic step, and the docs work offline (no CDN). Set STATIC_ROOT only
# to collect them elsewhere (a CDN or the proxy).
STATIC_ROOT = env_str("STATIC_ROOT")
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# An API answers a missing trailing slash with a JSON 404, never a redirect that drops a POST body.
APPEND_SLASH = False

# Request bodies over 1 MiB are refused with 413 before anything parses them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- Media (uploaded photos) -----------------------------------------------------------------
# Files go through Django's storage API. By default the local file system under MEDIA_ROOT (a
# git-ignored folder), served by the app itself at /media/ (photos.views.media_file, which works
# with DEBUG off). MEDIA_STORAGE=s3 puts them in any S3-compatible object store instead, which
# then serves them (docs/deployment.md, "Photos").
MEDIA_ROOT = env_str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = env_str("MEDIA_URL", default="/media/")
MEDIA_STORAGE = env_str("MEDIA_STORAGE", default="filesystem")
_media_storage: dict[str, Any]
if MEDIA_STORAGE == "s3":
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("S3_BUCKET"),
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            # A CDN or public bucket domain: plain URLs. Without it, signed URLs that expire.
            "custom_domain": env_str("S3_CUSTOM_DOMAIN") or None,
            "querystring_auth": env_bool("S3_SIGNED_URLS", default=True),
            "querystring_expire": env_int("S3_SIGNED_URL_SECONDS", default=3600),
            # Names are random and never reused: a collision must fail loudly, not overwrite.
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    if not _media_storage["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET.")
elif MEDIA_STORAGE == "filesystem":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be filesystem or s3, got {MEDIA_STORAGE!r}.")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Photos ----------------------------------------------------------------------------------
# An upload's own limits; every other request body stays under DATA_UPLOAD_MAX_MEMORY_SIZE.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# Checked from the header, before a single pixel is decoded (decompression bombs).
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", default=40_000_000)
PHOTOS_PER_PROPERTY = env_int("PHOTOS_PER_PROPERTY", default=30)

# --- Calendars: iCal import and export (calendars/fetch.py, docs/security.md) ----------------
# Fetching a host's external calendar: private, loopback and link-local addresses are refused
# (SSRF) unless this is on, which only tests and a closed network should do.
ICAL_FETCH_ALLOW_PRIVATE = env_bool("ICAL_FETCH_ALLOW_PRIVATE", default=False)
# One deadline for the whole fetch (redirects included) and a body limit counted while reading.
ICAL_FETCH_TIMEOUT_SECONDS = env_int("ICAL_FETCH_TIMEOUT_SECONDS", default=10)
ICAL_FETCH_MAX_BYTES = env_int("ICAL_FETCH_MAX_BYTES", default=1024 * 1024)
ICAL_FETCH_MAX_REDIRECTS = env_int("ICAL_FETCH_MAX_REDIRECTS", default=3)
# A feed with more events than this is refused whole (a real listing has a few hundred at most).
ICAL_FEED_MAX_EVENTS = env_int("ICAL_FEED_MAX_EVENTS", default=2000)
ICAL_FEEDS_PER_PROPERTY = env_int("ICAL_FEEDS_PER_PROPERTY", default=10)
# The right-hand side of exported UIDs (hold-42@booking-api): never change it once calendars
# subscribe, or every event looks new to them.
ICAL_UID_DOMAIN = env_str("ICAL_UID_DOMAIN", default="booking-api")

# --- Database --------------------------------------------------------------------------------
# SQLite file by default; DATABASE_URL=postgres://... switches to PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
# django-prometheus' engines are Django's own plus query counters per database and vendor;
# on PostgreSQL, ours sends the health check's round trip at most once a second while the
# connection stays quiet and prepares the hot look-ups (core/db/backends/postgresql); on
# SQLite, ours keeps the triggers through a table rebuild (core/db/backends/sqlite3).
DATABASES["default"]["ENGINE"] = (
    DATABASES["default"]["ENGINE"]
    .replace("django.db.backends.postgresql", "core.db.backends.postgresql")
    .replace("django.db.backends.sqlite3", "core.db.backends.sqlite3")
    .replace("django.db.backends.", "django_prometheus.db.backends.")
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = {
        # Every atomic block takes the write lock at BEGIN, so a read-then-write (the booking
        # overlap check, then the insert) cannot interleave with another writer; a busy
        # database makes the writer wait up to `timeout` seconds instead of failing at once.
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_TIMEOUT_SECONDS", default=20),
        # WAL lets readers proceed while one writer holds the lock.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # A dead database answers 503 quickly instead of hanging a worker.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
    # Behind PgBouncer in transaction mode a server-side cursor (QuerySet.iterator()) would
    # outlive the transaction that declared it; set true there (docs/deployment.md).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DISABLE_SERVER_SIDE_CURSORS", default=False
    )
    # The hot look-ups (core.compiled_queries.CompiledQuery) are PREPAREd in SQL: parsed and
    # planned once per session. Set false behind PgBouncer in transaction mode, which hands
    # each transaction to any server session (docs/deployment.md).
    # Our backend's own key (dj-database-url's type does not know it; Django keeps it).
    DATABASES["default"]["PREPARED_STATEMENTS"] = env_bool(  # type: ignore[typeddict-unknown-key]
        "DATABASE_PREPARED_STATEMENTS", default=True
    )

# --- Caches ----------------------------------------------------------------------------------
# "default": what may differ a little between processes (request-rate throttles).
# "shared": what every worker and instance must agree on (failed-login counters, the cached
# property count): a database table (created by core's migration) until Redis is configured.
# REDIS_URL=redis://host:6379/0 puts both in Redis, shared by every worker of every instance.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    _redis = {
        "BACKEND": "core.cache.PrefixedRedisCache",
        "LOCATION": REDIS_URL,
        # Keys (and cache.clear()) stay under this prefix, so deployments may share a Redis.
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", default="booking"),
        "OPTIONS": {
            # A stalled Redis fails the request within seconds instead of holding a worker
            # until gunicorn's timeout kills it.
            "socket_connect_timeout": env_int("REDIS_TIMEOUT_SECONDS", default=2),
            "socket_timeout": env_int("REDIS_TIMEOUT_SECONDS", default=2),
            # Pooled connections idle behind a firewall are pinged before reuse.
            "health_check_interval": 30,
        },
    }
    CACHES = {"default": _redis, "shared": dict(_redis)}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_shared_cache",
        },
    }
# Backstop for writes that skip the property services (bulk scripts): the cached unfiltered
# count is recomputed at least this often. Service writes forget it at once.
PROPERTY_COUNT_CACHE_SECONDS = env_int("PROPERTY_COUNT_CACHE_SECONDS", default=30)
# Public property lists and details are served from the shared cache for up to this long, and
# forgotten the moment a write that changes them commits (core/cache_generations.py). Only with
# Redis (0 without it, whatever the variable says): a database-table cache would cost what it
# saves, and memory caches are per process.
RESPONSE_CACHE_SECONDS = env_int("RESPONSE_CACHE_SECONDS", default=60) if REDIS_URL else 0
# Part of every cached response's key: give each release that changes a response's shape a new
# value, so that during a rolling deploy old and new instances do not read each other's entries.
RESPONSE_CACHE_VERSION = env_str("RESPONSE_CACHE_VERSION", default="1")

# --- Bookings --------------------------------------------------------------------------------
# How long an Idempotency-Key on POST /api/bookings/ replays its first response.
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", default=24)
# How long a host has to answer a booking request before it expires (docs/booking-lifecycle.md).
BOOKING_REQUEST_HOURS = env_int("BOOKING_REQUEST_HOURS", default=24)

# Listings: the currency a new listing gets when its host names none (ISO 4217), and the time
# zone of a listing whose coordinates and location say nothing the gazetteer knows.
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", default="USD")
LISTING_DEFAULT_TIME_ZONE = env_str("LISTING_DEFAULT_TIME_ZONE", default="UTC")
# The dated listing search (check_in/check_out/guests on GET /api/properties/): it spans holds
# and rates, which sit above properties, so properties/filters.py finds it by this name. Code,
# not configuration: not read from the environment.
PROPERTY_STAY_SEARCH = "rates.selectors.property_bookable_between"

# --- Accounts and passwords ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]

# First entry hashes new passwords; the others still verify old hashes, which are upgraded to the
# first one on the next successful login.
PASSWORD_HASHERS = [
    "accounts.hashers.OWASPArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Django's MinimumLengthValidator, counting only what is not whitespace (ten spaces are ten
    # characters to Django's own).
    {
        "NAME": "accounts.password_validation.NonWhitespaceLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
]

# --- Security --------------------------------------------------------------------------------
# TLS ends at the reverse proxy; it tells us the original scheme in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
# Django sends HSTS only on HTTPS requests, so a default on is harmless on plain-HTTP loopback.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Browsers on other origins may call the API only from the origins listed (none by default).
# Tokens travel in the Authorization header, never in cookies, so credentials stay off.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = [*default_cors_headers, "idempotency-key", "x-request-id"]
# Browsers hide every response header but a few simple ones unless the server exposes it.
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed", "X-Request-ID"]
SILENCED_SYSTEM_CHECKS = [
    # W008: the app serves plain HTTP behind a TLS-terminating proxy, which does the redirect;
    # set SECURE_SSL_REDIRECT=true only when no proxy does.
    "security.W008",
    # W021: HSTS preload is a commitment to browser vendors' lists that only the owner of the
    # domain can make; set SECURE_HSTS_PRELOAD=true once the domain is submitted.
    "security.W021",
]

# --- Django REST Framework -------------------------------------------------------------------
THROTTLING_ENABLED = env_bool("THROTTLING_ENABLED", default=True)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.RevocableJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    # THROTTLING_ENABLED=false (load tests) sets every rate to None, which DRF reads as "off".
    "DEFAULT_THROTTLE_RATES": {
        scope: rate if THROTTLING_ENABLED else None
        for scope, rate in {
            "anon": env_str("ANON_THROTTLE_RATE", default="1000/min"),
            "user": env_str("USER_THROTTLE_RATE", default="2000/min"),
            "register": env_str("REGISTER_THROTTLE_RATE", default="100/hour"),
            "login_username": env_str("LOGIN_THROTTLE_RATE", default="10/min"),
            "login_address": env_str("LOGIN_ADDRESS_THROTTLE_RATE", default="30/min"),
            "photo_upload": env_str("PHOTO_UPLOAD_THROTTLE_RATE", default="60/hour"),
            "ical_sync": env_str("ICAL_SYNC_THROTTLE_RATE", default="60/hour"),
        }.items()
    },
    # Client address = REMOTE_ADDR unless the operator says how many proxies sit in front;
    # trusting X-Forwarded-For blindly would let a client pick its own throttle bucket.
    "NUM_PROXIES": env_int("NUM_PROXIES", default=0),
    # Money stays Decimal inside and renders as a JSON number.
    "COERCE_DECIMAL_TO_STRING": False,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# --- Simple JWT ------------------------------------------------------------------------------
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("ACCESS_TOKEN_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("REFRESH_TOKEN_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a hash of the password: changing it invalidates every outstanding token.
    "CHECK_REVOKE_TOKEN": True,
}

# --- drf-spectacular -------------------------------------------------------------------------
SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
SPECTACULAR_SETTINGS = {
    "TITLE": "Booking API",
    "DESCRIPTION": "Hosts list properties; guests search them and book free dates.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for the booking states wherever they appear (status, history's from/to).
    "ENUM_NAME_OVERRIDES": {"BookingStatusEnum": "bookings.models.Booking.Status"},
    # Swagger UI and ReDoc assets come from drf-spectacular-sidecar, served by the app itself.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    # The system's fonts: the page loads nothing from outside this server (core/redoc.html).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": SYSTEM_FONTS,
                "headings": {"fontFamily": SYSTEM_FONTS},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations in URL order (register, log in, ...), tags in the order a person meets them.
    "SORT_OPERATIONS": False,
    "TAGS": [
        {"name": "accounts", "description": "Register, sign in and out, tokens, your profile."},
        {"name": "properties", "description": "Search places, list your own, see free nights."},
        {
            "name": "calendar",
            "description": "A listing's nights: hosts block dates and sync with other platforms.",
        },
        {"name": "rates", "description": "A listing's prices and rules, its calendar, quotes."},
        {"name": "bookings", "description": "Book a stay, see and cancel your bookings."},
        {"name": "operations", "description": "For load balancers and monitoring."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.example_dates_hook",
    ],
}

# --- Logging ---------------------------------------------------------------------------------
# JSON lines on stderr: one per request (booking.request), one per booking created or cancelled
# (booking.bookings), each stamped with the request id.
LOG_LEVEL = env_str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.request_context.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Every request already has its line; Django's own per-4xx warnings would double it.
        "django.request": {"level": "ERROR"},
    },
}

# --- Metrics ---------------------------------------------------------------------------------
# Prometheus metrics at /metrics: request counts and latencies per view (core.middleware.
# MetricsMiddleware), database query counts (django-prometheus' engines). METRICS_ENABLED=false
# removes the endpoint; METRICS_TOKEN, when set, requires `Authorization: Bearer <token>`
# (Prometheus' bearer_token scrape option).
METRICS_ENABLED = env_bool("METRICS_ENABLED", default=True)
METRICS_TOKEN = env_str("METRICS_TOKEN") or None
