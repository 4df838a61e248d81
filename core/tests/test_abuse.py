"""The API abused the way the OWASP API Security Top 10 (2023) says attackers do. Each section
names its risk; docs/security.md maps every threat to the tests that prove the answer, including
ones that live next to the feature they cover (login throttling, the body limit, page caps)."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.services import token_pair_create
from accounts.tests.factories import UserFactory
from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from calendars.models import Hold, IcalFeed
from conftest import client_for
from core.stays import utc_today
from core.tests.test_settings import ROOT
from photos.models import Photo
from photos.tests.factories import PhotoFactory
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

# --- API1 Broken object level authorization -------------------------------------------------

# Every operation on a path with an id, and what another signed-in user gets there.
FOREIGN_OBJECT_STATUS = {
    ("GET", "/api/bookings/{id}/"): 404,  # a guest's booking is not even shown to exist
    ("DELETE", "/api/bookings/{id}/"): 404,
    ("PATCH", "/api/bookings/{id}/"): 404,
    ("GET", "/api/bookings/{id}/cancellation/"): 404,
    # Host actions: not the caller's listing, so not shown to exist either.
    ("POST", "/api/bookings/{id}/accept/"): 404,
    ("POST", "/api/bookings/{id}/decline/"): 404,
    ("POST", "/api/bookings/{id}/host-cancel/"): 404,
    ("GET", "/api/properties/{id}/"): 200,  # listings are public
    ("PUT", "/api/properties/{id}/"): 403,
    ("PATCH", "/api/properties/{id}/"): 403,
    ("DELETE", "/api/properties/{id}/"): 403,
    ("GET", "/api/properties/{property_id}/availability/"): 200,  # public calendar, no guests
    ("GET", "/api/properties/{property_id}/bookings/"): 403,
    ("GET", "/api/properties/{property_id}/blocks/"): 403,  # the host's private notes
    ("POST", "/api/properties/{property_id}/blocks/"): 403,
    ("DELETE", "/api/properties/{property_id}/blocks/{block_id}/"): 403,
    ("GET", "/api/properties/{property_id}/photos/"): 200,  # photos are public
    ("POST", "/api/properties/{property_id}/photos/"): 403,
    ("PUT", "/api/properties/{property_id}/photos/order/"): 403,
    ("PATCH", "/api/properties/{property_id}/photos/{photo_id}/"): 403,
    ("DELETE", "/api/properties/{property_id}/photos/{photo_id}/"): 403,
    ("GET", "/api/properties/{property_id}/rates/"): 200,  # rules and taxes are public
    ("PUT", "/api/properties/{property_id}/rates/"): 403,
    ("PATCH", "/api/properties/{property_id}/rates/"): 403,
    ("POST", "/api/properties/{property_id}/rates/days/"): 403,
    ("GET", "/api/properties/{property_id}/calendar/"): 200,  # public, never who holds a night
    ("GET", "/api/properties/{property_id}/quote/"): 400,  # public; no dates given here
    ("GET", "/api/ical/{token}.ics"): 404,  # a guessed token: the same 404 as any other
    ("POST", "/api/properties/{property_id}/ical/rotate/"): 403,
    ("GET", "/api/properties/{property_id}/ical/feeds/"): 403,  # other platforms' secret links
    ("POST", "/api/properties/{property_id}/ical/feeds/"): 403,
    ("DELETE", "/api/properties/{property_id}/ical/feeds/{feed_id}/"): 403,
    ("POST", "/api/properties/{property_id}/ical/feeds/{feed_id}/sync/"): 403,
}


def test_every_operation_on_an_id_is_covered_by_the_object_level_test():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    # The amenity vocabulary is read-only and belongs to no user: nothing to take over.
    with_ids = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if "{" in path and path != "/api/amenities/{code}/"
        for method in operations
    }

    assert with_ids == set(FOREIGN_OBJECT_STATUS)


@pytest.mark.parametrize(("method", "path"), list(FOREIGN_OBJECT_STATUS))
def test_another_users_object_is_refused_and_unchanged(method, path):
    booking = BookingFactory.create()
    listing = booking.property
    photo = PhotoFactory.create(property=listing, position=0, caption="Mine")
    block = Hold.objects.create(
        property=listing,
        kind=Hold.Kind.BLOCK,
        start=booking.check_out + timedelta(days=5),
        end=booking.check_out + timedelta(days=7),
    )
    feed = IcalFeed.objects.create(property=listing, url="https://calendar.example.com/a.ics")
    holds = set(Hold.objects.values_list("pk", "start", "end"))
    before = (booking.status, booking.guest_id, listing.title, listing.price_per_night)
    attacker = client_for(UserFactory.create())
    url = path.format(
        id=booking.pk if "bookings/{id}" in path else listing.pk,
        property_id=listing.pk,
        photo_id=photo.pk,
        block_id=block.pk,
        feed_id=feed.pk,
        token="A" * 43,
    )
    body = {
        "title": "Pwned",
        "price_per_night": 1,
        "location": "Nowhere",
        "caption": "Pwned",
        "photo_ids": [photo.pk],
        "start": str(booking.check_out),
        "end": str(booking.check_out + timedelta(days=1)),
        "guests": 2,
        "reason": "Pwned",
    }

    response = getattr(attacker, method.lower())(
        url, body if method in {"PUT", "PATCH", "POST"} else None
    )

    assert response.status_code == FOREIGN_OBJECT_STATUS[(method, path)]
    if response.status_code in (403, 404):
        assert set(response.json()) == {"detail", "code"}
    if method == "GET" and path.endswith(("availability/", "calendar/")):
        assert "guest" not in str(response.json())
    booking.refresh_from_db()
    listing = Property.all_objects.get(pk=listing.pk)
    assert (booking.status, booking.guest_id, listing.title, listing.price_per_night) == before
    assert listing.deleted_at is None
    assert list(Photo.objects.values_list("pk", "caption", "position")) == [(photo.pk, "Mine", 0)]
    assert set(Hold.objects.values_list("pk", "start", "end")) == holds
    assert list(IcalFeed.objects.values_list("pk", "url", "last_sync_at")) == [
        (feed.pk, feed.url, None)
    ]


# --- API2 Broken authentication -------------------------------------------------------------
# Login throttling per username and per address: accounts/tests/test_api.py
# (test_failed_logins_per_username_are_throttled_and_lock_out_the_right_password,
#  test_failed_logins_per_address_are_throttled_across_usernames).


def _claims(user, **overrides) -> dict:
    token = AccessToken.for_user(user)
    return {**token.payload, **overrides}


def _forged_tokens(user) -> dict[str, str]:
    return {
        "signed with another key": jwt.encode(
            _claims(user), "another-key-of-at-least-32-bytes-long", algorithm="HS256"
        ),
        # With cryptography installed (moto brings it), PyJWT's hints list key objects only.
        "alg none": jwt.encode(_claims(user), None, algorithm="none"),  # type: ignore[arg-type]
        "expired": jwt.encode(
            _claims(user, exp=1_000_000_000),
            settings.SIMPLE_JWT["SIGNING_KEY"],  # type: ignore[arg-type]
            "HS256",
        ),
        "refresh token as access": str(token_pair_create(user=user)),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize(
    "kind",
    ["signed with another key", "alg none", "expired", "refresh token as access", "garbage"],
)
def test_bad_access_tokens_are_401_even_on_public_endpoints(kind):
    user = UserFactory.create()
    token = _forged_tokens(user)[kind]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    private = client.get("/api/profile/")
    public = client.get("/api/properties/")

    assert (private.status_code, public.status_code) == (401, 401)
    assert set(private.json()) == {"detail", "code"}


@pytest.mark.parametrize("fate", ["deactivated", "deleted"])
def test_token_of_a_deactivated_or_deleted_user_is_401(fate):
    user = UserFactory.create()
    client = client_for(user)
    if fate == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        user.delete()

    response = client.get("/api/profile/")

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


def test_access_token_used_as_refresh_token_is_401(api_client):
    # Also accounts/tests/test_api.py::test_an_access_token_is_not_a_refresh_token.
    access = str(token_pair_create(user=UserFactory.create()).access_token)

    response = api_client.post("/api/token/refresh/", {"refresh": access})

    assert response.status_code == 401


# --- API3 Broken object property level authorization (mass assignment) ----------------------

PRIVILEGED = {
    "id": 999_999,
    "owner": "someone_else",
    "owner_id": 1,
    "guest": 1,
    "total_price": "0.01",
    "status": "cancelled",
    "is_staff": True,
    "is_superuser": True,
    "created_at": "2000-01-01T00:00:00Z",
    "date_joined": "2000-01-01T00:00:00Z",
}


def test_privileged_fields_are_ignored_on_every_write_endpoint(api_client):
    other = UserFactory.create()
    registered = api_client.post(
        "/api/register/",
        {**PRIVILEGED, "username": "mallory", "email": "m@example.com", "password": "x9-long-pw"},
    )
    mallory = User.objects.get(username="mallory")
    client = client_for(mallory)
    client.patch("/api/profile/", {**PRIVILEGED, "first_name": "M"})
    client.put("/api/profile/", {**PRIVILEGED, "last_name": "Q"})
    created = client.post(
        "/api/properties/",
        {**PRIVILEGED, "title": "Mine", "price_per_night": 50, "location": "Lisbon"},
    )
    listing = Property.objects.get(title="Mine")
    client.patch(f"/api/properties/{listing.pk}/", {**PRIVILEGED, "title": "Mine 2"})
    client.put(
        f"/api/properties/{listing.pk}/",
        {**PRIVILEGED, "title": "Mine 3", "price_per_night": 60, "location": "Porto"},
    )
    booked = client_for(other).post(
        "/api/bookings/",
        {
            **PRIVILEGED,
            "property_id": listing.pk,
            "check_in": str(utc_today() + timedelta(days=5)),
            "check_out": str(utc_today() + timedelta(days=7)),
        },
    )

    assert (registered.status_code, created.status_code, booked.status_code) == (201, 201, 201)
    mallory.refresh_from_db()
    listing.refresh_from_db()
    booking = Booking.objects.get()
    assert (mallory.is_staff, mallory.is_superuser, mallory.first_name) == (False, False, "M")
    assert mallory.date_joined.year == utc_today().year
    assert mallory.pk != PRIVILEGED["id"]
    assert (listing.owner_id, listing.title) == (mallory.pk, "Mine 3")
    assert listing.pk != PRIVILEGED["id"]
    assert listing.created_at.year != 2000
    assert (booking.guest_id, booking.status, str(booking.total_price)) == (
        other.pk,
        "confirmed",
        "120.00",
    )
    assert booking.created_at.year != 2000


# --- API4 Unrestricted resource consumption -------------------------------------------------
# Bodies over 1 MiB: core/tests/test_errors.py::test_body_over_one_mebibyte_is_a_json_413.
# page_size at most 20: properties/tests/test_api.py::test_page_size_over_20_is_400.
# String lengths: properties/tests/test_api.py::test_create_rejects_invalid_field and
# accounts/tests/test_api.py::test_register_rejects_invalid_field.


@pytest.fixture
def low_rates(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "3/min", "user": "4/min"}
    rates["register"] = "2/hour"
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def _assert_throttled(response):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60 * 60
    assert response.json()["code"] == "throttled"
    assert response.json()["detail"].startswith("Request was throttled.")


def test_anonymous_requests_are_throttled_per_address(api_client, low_rates):
    statuses = [api_client.get("/api/properties/").status_code for _ in range(3)]

    response = api_client.get("/api/properties/")

    assert statuses == [200, 200, 200]
    _assert_throttled(response)
    assert APIClient(REMOTE_ADDR="10.0.0.9").get("/api/properties/").status_code == 200


def test_authenticated_requests_are_throttled_per_user(low_rates):
    user = UserFactory.create()
    statuses = [client_for(user).get("/api/bookings/").status_code for _ in range(4)]

    response = client_for(user).get("/api/bookings/")

    assert statuses == [200] * 4
    _assert_throttled(response)
    assert client_for(UserFactory.create()).get("/api/bookings/").status_code == 200


def test_registrations_are_throttled_per_address(api_client, low_rates):
    def register(n):
        return api_client.post(
            "/api/register/",
            {"username": f"user_r{n}", "email": f"r{n}@example.com", "password": "x9-long-pw"},
        )

    statuses = [register(n).status_code for n in range(2)]

    response = register(2)

    assert statuses == [201, 201]
    _assert_throttled(response)
    assert not User.objects.filter(username="user_r2").exists()


def test_default_rates_are_generous_and_each_comes_from_the_environment():
    script = (
        "from django.conf import settings; print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.base", "PATH": "/usr/bin:/bin"}

    def rates(**overrides):
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            cwd=ROOT,
            env={**env, **overrides},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    assert rates() == str(
        {
            "anon": "1000/min",
            "user": "2000/min",
            "register": "100/hour",
            "login_username": "10/min",
            "login_address": "30/min",
            "photo_upload": "60/hour",
            "ical_sync": "60/hour",
        }
    )
    assert "'anon': '50/min'" in rates(ANON_THROTTLE_RATE="50/min")
    assert "'user': '70/min'" in rates(USER_THROTTLE_RATE="70/min")
    assert "'register': '5/hour'" in rates(REGISTER_THROTTLE_RATE="5/hour")
    assert "'photo_upload': '3/hour'" in rates(PHOTO_UPLOAD_THROTTLE_RATE="3/hour")


# Noon UTC: the listing (UTC) is at noon, UTC+14 already on the next day, UTC-12 at midnight.
NOON_UTC = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)


def test_stays_and_searches_further_than_730_days_ahead_are_refused():
    # The clock is pinned: which zones a day is "past every window" for depends on the hour.
    with time_machine.travel(NOON_UTC, tick=False):
        auth_client = client_for(UserFactory.create())
        listing = PropertyFactory.create(time_zone="UTC")
        too_far = utc_today() + timedelta(days=731)
        body = {
            "property_id": listing.pk,
            "check_in": str(too_far),
            "check_out": str(too_far + timedelta(days=2)),
        }

        booking = auth_client.post("/api/bookings/", body)
        # The listing (UTC) refuses that day; a listing at UTC+14 may still take it, so the
        # search answers, without this listing. A day beyond every zone's window is refused.
        search = auth_client.get(
            "/api/properties/",
            {"check_in": str(too_far), "check_out": str(too_far + timedelta(days=2))},
        )
        beyond_every_zone = auth_client.get(
            "/api/properties/",
            {
                "check_in": str(too_far + timedelta(days=1)),
                "check_out": str(too_far + timedelta(3)),
            },
        )
        last_day = auth_client.post(
            "/api/bookings/",
            {**body, "check_in": str(too_far - timedelta(days=1)), "check_out": str(too_far)},
        )

    message = {"check_in": ["Check-in cannot be more than 730 days ahead."]}
    assert (booking.status_code, booking.json()["errors"]) == (400, message)
    assert (search.status_code, search.json()["results"]) == (200, [])
    assert (beyond_every_zone.status_code, beyond_every_zone.json()["errors"]) == (400, message)
    assert last_day.status_code == 201
    assert Booking.objects.count() == 1


# --- API8 Security misconfiguration ---------------------------------------------------------
# `check --deploy` clean with production values: core/tests/test_settings.py.
# Unhandled errors are JSON without internals: core/tests/test_errors.py.


def test_security_headers_on_every_api_answer(api_client):
    responses = [api_client.get("/api/properties/"), api_client.get("/api/no-such-thing/")]

    for response in responses:
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Content-Type"] == "application/json"
        assert "Strict-Transport-Security" not in response  # plain HTTP: HSTS would be ignored


def test_hsts_behind_a_tls_terminating_proxy(api_client):
    response = api_client.get("/api/properties/", HTTP_X_FORWARDED_PROTO="https")

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_cross_origin_access_by_default(api_client):
    response = api_client.get("/api/properties/", HTTP_ORIGIN="https://evil.example")
    preflight = api_client.options(
        "/api/bookings/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in preflight


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_cors_allows_only_the_listed_origins_with_our_headers(api_client):
    allowed = api_client.options(
        "/api/bookings/",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    other = api_client.get("/api/properties/", HTTP_ORIGIN="https://evil.example")

    assert allowed["Access-Control-Allow-Origin"] == "https://app.example"
    assert {"authorization", "content-type", "idempotency-key"} <= set(
        allowed["Access-Control-Allow-Headers"].split(", ")
    )
    assert "Access-Control-Allow-Credentials" not in allowed
    assert "Access-Control-Allow-Origin" not in other


def test_cors_origins_come_from_the_environment():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CORS_ALLOWED_ORIGINS)",
        ],
        cwd=ROOT,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        },
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == "['https://a.example', 'https://b.example']"
