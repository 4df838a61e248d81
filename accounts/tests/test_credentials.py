"""Changing the password, changing the email, and refresh-token reuse detection."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import RevokedTokenFamily, User
from accounts.services import expired_tokens_purge
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/login/"
REFRESH = "/api/token/refresh/"
PROFILE = "/api/profile/"
PASSWORD_CHANGE = "/api/password/"
NEW_PASSWORD = "a-brand-new-passphrase"


def session(user, password=PASSWORD) -> dict:
    """A fresh login's token pair."""
    response = APIClient().post(LOGIN, {"username": user.username, "password": password})
    assert response.status_code == 200
    return response.json()


def bearer(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(token):
    return APIClient().post(REFRESH, {"refresh": token})


@pytest.fixture
def low_login_rates(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_username": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


# --- password change -----------------------------------------------------------------------


def test_a_password_change_ends_every_other_session_and_hands_the_caller_a_fresh_pair():
    user = UserFactory.create()
    caller, other = session(user), session(user)

    response = bearer(caller["token"]).post(
        PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"token", "refresh"}
    assert response["Cache-Control"] == "no-store"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    for old in (caller, other):
        assert bearer(old["token"]).get(PROFILE).status_code == 401
        assert refresh(old["refresh"]).status_code == 401
    assert bearer(fresh["token"]).get(PROFILE).status_code == 200
    assert refresh(fresh["refresh"]).status_code == 200
    old_password = APIClient().post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert old_password.status_code == 401
    assert session(user, NEW_PASSWORD)["token"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"current_password": "not-my-password", "new_password": NEW_PASSWORD}, "current_password"),
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "password123"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "12345678901"}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
    ],
)
def test_a_refused_password_change_names_the_field_and_changes_nothing(body, field):
    user = UserFactory.create(username="john_doe")
    tokens = session(user)
    stored = User.objects.get(pk=user.pk).password

    response = bearer(tokens["token"]).post(PASSWORD_CHANGE, body)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert User.objects.get(pk=user.pk).password == stored
    assert bearer(tokens["token"]).get(PROFILE).status_code == 200


def test_a_password_change_needs_a_token(api_client):
    response = api_client.post(
        PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 401


def test_wrong_current_passwords_count_as_failed_logins(low_login_rates):
    user = UserFactory.create()
    client = bearer(session(user)["token"])
    wrong = {"current_password": "not-my-password", "new_password": NEW_PASSWORD}
    statuses = [client.post(PASSWORD_CHANGE, wrong).status_code for _ in range(3)]

    locked = client.post(PASSWORD_CHANGE, {"current_password": PASSWORD, "new_password": "x" * 9})

    # A stolen access token is no unlimited oracle for the password.
    assert statuses == [400] * 3
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert (
        APIClient().post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code
        == 429
    )


# --- email change ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "Give your current password."),
        ({"current_password": ""}, "This field may not be blank."),
        ({"current_password": "not-my-password"}, "The current password is wrong."),
    ],
)
def test_an_email_change_without_the_right_current_password_is_refused(method, extra, message):
    user = UserFactory.create(email="old@example.com")
    client = bearer(session(user)["token"])

    response = getattr(client, method)(
        PROFILE, {"email": "new@example.com", "first_name": "John", **extra}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"current_password": [message]}
    user.refresh_from_db()
    assert (user.email, user.first_name) == ("old@example.com", "")


def test_an_email_change_with_the_current_password_is_made():
    user = UserFactory.create(email="old@example.com")
    client = bearer(session(user)["token"])

    response = client.patch(PROFILE, {"email": "New@Example.com", "current_password": PASSWORD})

    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    assert User.objects.get(pk=user.pk).email == "new@example.com"


def test_other_profile_fields_and_the_same_email_need_no_password():
    user = UserFactory.create(email="same@example.com")
    client = bearer(session(user)["token"])

    response = client.patch(
        PROFILE, {"email": "SAME@example.com", "first_name": "John", "username": "johnny"}
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.email, user.first_name, user.username) == ("same@example.com", "John", "johnny")


# --- refresh-token reuse ---------------------------------------------------------------------


def test_a_reused_refresh_token_revokes_every_token_descended_from_its_login():
    user = UserFactory.create()
    first = session(user)
    second = refresh(first["refresh"]).json()
    third = refresh(second["refresh"]).json()
    elsewhere = session(user)  # another login: another family

    reused = refresh(first["refresh"])

    assert reused.status_code == 401
    assert reused.json() == {
        "detail": "Token was already used; every token of its login is now revoked.",
        "code": "token_invalid",
    }
    for pair in (first, second, third):
        assert bearer(pair["token"]).get(PROFILE).status_code == 401
    assert bearer(third["token"]).get(PROFILE).json() == {
        "detail": "Token has been revoked.",
        "code": "token_invalid",
    }
    assert refresh(third["refresh"]).status_code == 401
    assert bearer(elsewhere["token"]).get(PROFILE).status_code == 200
    assert refresh(elsewhere["refresh"]).status_code == 200
    assert RevokedTokenFamily.objects.count() == 1


def test_a_refused_refresh_of_a_good_token_revokes_nothing():
    user = UserFactory.create()
    pair = session(user)

    assert refresh("garbage").status_code == 401
    rotated = refresh(pair["refresh"])

    assert rotated.status_code == 200
    assert RevokedTokenFamily.objects.count() == 0
    assert bearer(pair["token"]).get(PROFILE).status_code == 200
    assert bearer(rotated.json()["token"]).get(PROFILE).status_code == 200


def test_a_refresh_token_issued_before_families_starts_its_own():
    user = UserFactory.create()
    legacy = RefreshToken.for_user(user)  # no family claim, as issued by the previous release

    rotated = refresh(str(legacy))
    reused = refresh(str(legacy))

    assert (rotated.status_code, reused.status_code) == (200, 401)
    assert refresh(rotated.json()["refresh"]).status_code == 401
    assert RevokedTokenFamily.objects.get().family == legacy["jti"]


def test_revoked_families_are_purged_once_expired():
    now = timezone.now()
    RevokedTokenFamily.objects.create(family="gone", expires_at=now - timedelta(seconds=1))
    kept = RevokedTokenFamily.objects.create(family="kept", expires_at=now + timedelta(days=1))

    assert expired_tokens_purge() == 1
    assert list(RevokedTokenFamily.objects.all()) == [kept]


def test_wrong_current_passwords_on_an_email_change_count_as_failed_logins(low_login_rates):
    user = UserFactory.create()
    client = bearer(session(user)["token"])
    wrong = {"email": "new@example.com", "current_password": "not-my-password"}
    statuses = [client.patch(PROFILE, wrong).status_code for _ in range(3)]

    locked = client.patch(PROFILE, {"email": "new@example.com", "current_password": PASSWORD})

    assert statuses == [400] * 3
    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert int(locked["Retry-After"]) > 0
    assert User.objects.get(pk=user.pk).email == user.email
