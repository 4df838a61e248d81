import pytest
from django.contrib.auth.hashers import make_password
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import RevokedAccessToken, User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import client_for

pytestmark = pytest.mark.django_db

REGISTER = "/api/register/"
LOGIN = "/api/login/"
LOGOUT = "/api/logout/"
REFRESH = "/api/token/refresh/"
PROFILE = "/api/profile/"


def register(client, **overrides):
    body = {"username": "john_doe", "email": "john@example.com", "password": "securepass123"}
    body.update(overrides)
    return client.post(REGISTER, body, format="json")


def bearer(client, token):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- register --------------------------------------------------------------------------------


def test_register_returns_the_account_and_a_working_token_pair(api_client):
    response = register(api_client)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "username", "email", "token", "refresh"}
    user = User.objects.get()
    assert body["id"] == user.pk
    assert (body["username"], body["email"]) == ("john_doe", "john@example.com")
    assert user.check_password("securepass123")
    assert bearer(api_client, body["token"]).get(PROFILE).status_code == 200


def test_register_stores_email_lower_cased(api_client):
    response = register(api_client, email="John@Example.COM")

    assert response.status_code == 201
    assert response.json()["email"] == "john@example.com"
    assert User.objects.get().email == "john@example.com"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "jo"),  # too short
        ("username", "a" * 31),  # too long
        ("username", "john-doe"),  # not alphanumeric/underscore
        ("username", "john doe"),
        ("username", "jöhn"),
        ("email", "not-an-email"),
        ("password", "short7!"),  # under 8 characters
        ("password", "x" * 129),  # over 128
        ("password", "password123"),  # a common password (Django's validator)
        ("password", "1234567890"),  # entirely numeric
        ("password", "john_doe_1"),  # too similar to the username
    ],
)
def test_register_rejects_invalid_field(api_client, field, value):
    response = register(api_client, **{field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]
    assert User.objects.count() == 0


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_requires_each_field(api_client, missing):
    body = {"username": "john_doe", "email": "john@example.com", "password": "securepass123"}
    del body[missing]

    response = api_client.post(REGISTER, body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {missing: ["This field is required."]}
    assert User.objects.count() == 0


def test_register_refuses_a_username_taken_in_another_case(api_client):
    UserFactory.create(username="John_Doe")

    response = register(api_client, username="JOHN_DOE", email="other@example.com")

    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_register_refuses_an_email_taken_in_another_case(api_client):
    UserFactory.create(email="john@example.com")

    response = register(api_client, username="someone_else", email="JOHN@example.com")

    assert response.status_code == 400
    assert response.json()["errors"] == {"email": ["A user with that email already exists."]}
    assert User.objects.count() == 1


def test_register_ignores_privileged_fields(api_client):
    response = register(api_client, is_staff=True, is_superuser=True, id=999)

    assert response.status_code == 201
    user = User.objects.get()
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert response.json()["id"] == user.pk
    assert not User.objects.filter(pk=999).exists()


def test_new_passwords_are_hashed_with_argon2id_at_owasp_parameters(api_client):
    register(api_client)

    assert User.objects.get().password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


# --- login -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "John_Doe"},
        {"username": "JOHN_DOE"},
        {"username": "John@Example.com"},
        {"email": "john@example.com"},
    ],
)
def test_login_by_username_or_email_ignoring_case(api_client, credentials):
    user = UserFactory.create(username="john_doe", email="john@example.com")

    response = api_client.post(LOGIN, {**credentials, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "username", "email", "token", "refresh"}
    assert body["id"] == user.pk
    assert bearer(api_client, body["token"]).get(PROFILE).json()["username"] == "john_doe"


def test_unknown_user_and_wrong_password_get_the_same_401(api_client):
    UserFactory.create(username="john_doe")

    wrong_password = api_client.post(LOGIN, {"username": "john_doe", "password": "nope-nope"})
    unknown_user = api_client.post(LOGIN, {"username": "nobody_here", "password": "nope-nope"})

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert (
        wrong_password.json()
        == unknown_user.json()
        == {"detail": "Invalid credentials.", "code": "invalid_credentials"}
    )


def test_inactive_user_cannot_log_in(api_client):
    UserFactory.create(username="john_doe", is_active=False)

    response = api_client.post(LOGIN, {"username": "john_doe", "password": PASSWORD})

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid credentials.", "code": "invalid_credentials"}


def test_login_without_a_name_is_a_400(api_client):
    response = api_client.post(LOGIN, {"password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["username"]


def test_login_upgrades_a_hash_made_by_an_older_hasher(api_client):
    user = UserFactory.create(username="john_doe")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    response = api_client.post(LOGIN, {"username": "john_doe", "password": PASSWORD})

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.fixture
def low_login_rates(monkeypatch):
    rates = {
        **SimpleRateThrottle.THROTTLE_RATES,
        "login_username": "3/min",
        "login_address": "5/min",
    }
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def test_failed_logins_per_username_are_throttled_and_lock_out_the_right_password(
    api_client, low_login_rates
):
    UserFactory.create(username="john_doe")
    for _ in range(3):
        assert (
            api_client.post(LOGIN, {"username": "john_doe", "password": "wrong-one"}).status_code
            == 401
        )

    locked = api_client.post(LOGIN, {"username": "JOHN_DOE", "password": PASSWORD})

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert set(locked.json()) == {"detail", "code"}
    assert "throttled" in locked.json()["detail"].lower()


def test_failed_logins_per_address_are_throttled_across_usernames(api_client, low_login_rates):
    UserFactory.create(username="victim")
    for n in range(5):
        response = api_client.post(LOGIN, {"username": f"guess_{n}", "password": "wrong-one"})
        assert response.status_code == 401

    response = api_client.post(LOGIN, {"username": "victim", "password": PASSWORD})

    assert response.status_code == 429
    assert "Retry-After" in response


def test_successful_logins_do_not_count_towards_the_lock(api_client, low_login_rates):
    UserFactory.create(username="john_doe")

    statuses = {
        api_client.post(LOGIN, {"username": "john_doe", "password": PASSWORD}).status_code
        for _ in range(6)
    }

    assert statuses == {200}


# --- logout and refresh ----------------------------------------------------------------------


def test_logout_revokes_the_access_token_while_another_session_survives(api_client):
    user = UserFactory.create()
    first = api_client.post(LOGIN, {"username": user.username, "password": PASSWORD}).json()
    second = api_client.post(LOGIN, {"username": user.username, "password": PASSWORD}).json()
    first_client = bearer(api_client, first["token"])

    response = first_client.post(LOGOUT)

    assert response.status_code == 204
    assert first_client.get(PROFILE).status_code == 401
    assert first_client.get(PROFILE).json() == {
        "detail": "Token has been revoked.",
        "code": "token_invalid",
    }
    assert client_for(user).get(PROFILE).status_code == 200
    second_client = bearer(type(api_client)(), second["token"])
    assert second_client.get(PROFILE).status_code == 200


def test_logout_with_refresh_token_revokes_it_too(api_client):
    user = UserFactory.create()
    tokens = api_client.post(LOGIN, {"username": user.username, "password": PASSWORD}).json()

    response = bearer(api_client, tokens["token"]).post(
        LOGOUT, {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 204
    refreshed = type(api_client)().post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert set(refreshed.json()) == {"detail", "code"}


def test_logout_with_a_malformed_refresh_token_is_a_400_and_revokes_nothing(auth_client):
    response = auth_client.post(LOGOUT, {"refresh": "garbage"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["refresh"]
    assert RevokedAccessToken.objects.count() == 0
    assert auth_client.get(PROFILE).status_code == 200


def test_logout_with_another_users_refresh_token_is_refused(api_client, auth_client):
    other = UserFactory.create()
    other_refresh = api_client.post(
        LOGIN, {"username": other.username, "password": PASSWORD}
    ).json()["refresh"]

    response = auth_client.post(LOGOUT, {"refresh": other_refresh}, format="json")

    assert response.status_code == 400
    assert RevokedAccessToken.objects.count() == 0


def test_logout_needs_a_token(api_client):
    response = api_client.post(LOGOUT)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_rotates_and_the_used_token_is_refused(api_client):
    user = UserFactory.create()
    tokens = api_client.post(LOGIN, {"username": user.username, "password": PASSWORD}).json()

    rotated = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert rotated.status_code == 200
    body = rotated.json()
    assert set(body) == {"token", "refresh"}
    assert body["refresh"] != tokens["refresh"]
    assert bearer(type(api_client)(), body["token"]).get(PROFILE).status_code == 200
    reused = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert set(reused.json()) == {"detail", "code"}
    # The reuse revoked the whole login, the new pair included (test_credentials.py).
    assert api_client.post(REFRESH, {"refresh": body["refresh"]}, format="json").status_code == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_refresh_with_a_malformed_token_is_refused(api_client, token):
    response = api_client.post(REFRESH, {"refresh": token}, format="json")

    assert response.status_code in (400, 401)
    assert "detail" in response.json()
    if token:
        assert response.status_code == 401


def test_an_access_token_is_not_a_refresh_token(api_client):
    user = UserFactory.create()
    tokens = api_client.post(LOGIN, {"username": user.username, "password": PASSWORD}).json()

    assert api_client.post(REFRESH, {"refresh": tokens["token"]}, format="json").status_code == 401
    assert bearer(api_client, tokens["refresh"]).get(PROFILE).status_code == 401


# --- profile ---------------------------------------------------------------------------------


def test_profile_reads_the_caller(auth_client, user):
    response = auth_client.get(PROFILE)

    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_profile_needs_a_token(api_client):
    response = api_client.get(PROFILE)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }


@pytest.mark.parametrize("method", ["put", "patch"])
def test_profile_update_is_partial_and_ignores_read_only_fields(auth_client, user, method):
    joined = user.date_joined
    response = getattr(auth_client, method)(
        PROFILE,
        {
            "first_name": "John",
            "email": "New@Example.com",
            "id": 12345,
            "date_joined": "2000-01-01T00:00:00Z",
            "is_staff": True,
            "password": "hijacked-password",
            "current_password": PASSWORD,
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["first_name"], body["email"]) == (user.pk, "John", "new@example.com")
    user.refresh_from_db()
    assert (user.first_name, user.email, user.date_joined) == ("John", "new@example.com", joined)
    assert user.is_staff is False
    assert user.check_password(PASSWORD)


def test_profile_keeps_own_username_in_another_case(auth_client, user):
    response = auth_client.patch(PROFILE, {"username": user.username.upper()}, format="json")

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.username == user.username.upper()


def test_profile_refuses_another_users_username_and_email(auth_client, user):
    other = UserFactory.create(username="taken_name", email="taken@example.com")

    response = auth_client.put(
        PROFILE,
        {"username": "TAKEN_NAME", "email": "Taken@example.com", "current_password": PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "email"}
    user.refresh_from_db()
    assert user.username != other.username


def test_profile_update_validates_username_shape(auth_client, user):
    response = auth_client.patch(PROFILE, {"username": "bad name!"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["username"]
    assert User.objects.get(pk=user.pk).username == user.username
