"""Findings of the first review: refresh-token races and revocation, throttle keys, odd bodies."""

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import RevokedTokenFamily, User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import run_simultaneously

LOGIN = "/api/login/"
REFRESH = "/api/token/refresh/"


def login(client, name, password=PASSWORD):
    return client.post(LOGIN, {"username": name, "password": password})


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_yield_exactly_one_new_pair():
    user = UserFactory.create()
    refresh = login(APIClient(), user.username).json()["refresh"]

    statuses = run_simultaneously(
        [lambda: APIClient().post(REFRESH, {"refresh": refresh}).status_code] * 12
    )

    assert sorted(statuses) == [200] + [401] * 11
    # The login's token and the one new token: no second chain was started. The eleven
    # others presented a used token, which revokes the login's family (test_credentials.py).
    assert OutstandingToken.objects.filter(user=user).count() == 2
    assert RevokedTokenFamily.objects.count() == 1


@pytest.mark.django_db
def test_refresh_after_a_password_change_is_refused(api_client):
    user = UserFactory.create()
    refresh = login(api_client, user.username).json()["refresh"]
    user.set_password("a-brand-new-password-1")
    user.save()

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert response.status_code == 401
    assert response.json() == {
        "detail": "The user's password has been changed.",
        "code": "token_invalid",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("fate", ["deleted", "deactivated"])
def test_refresh_for_a_deleted_or_deactivated_account_is_refused(api_client, fate):
    user = UserFactory.create()
    refresh = login(api_client, user.username).json()["refresh"]
    if fate == "deleted":
        user.delete()
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


@pytest.mark.django_db
def test_refresh_without_a_token_is_a_400(api_client):
    response = api_client.post(REFRESH, {"refresh": ""})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["refresh"]


@pytest.fixture
def low_login_rates(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_username": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.mark.django_db
def test_case_variants_of_a_name_share_one_failed_login_counter(api_client, low_login_rates):
    UserFactory.create(username="alice", email="alice@example.com")

    statuses = [
        login(api_client, name, "wrong-password").status_code
        for name in ("alice", "ALICE", "Alice", "aLiCe")
    ]

    assert statuses == [401, 401, 401, 429]


@pytest.mark.django_db
def test_a_locked_username_reveals_nothing_about_which_email_is_its_own(
    api_client, low_login_rates
):
    UserFactory.create(username="alice", email="alice@example.com")
    UserFactory.create(username="bob", email="bob@example.com")
    for _ in range(3):
        login(api_client, "alice", "wrong-password")
    assert login(api_client, "alice", "wrong-password").status_code == 429

    guesses = {
        email: login(api_client, email, "wrong-password")
        for email in ("alice@example.com", "bob@example.com", "nobody@example.com")
    }

    # Before, alice's own email shared her lock and answered 429: an oracle for who owns it.
    assert {email: r.status_code for email, r in guesses.items()} == dict.fromkeys(guesses, 401)
    assert {r.content for r in guesses.values()} == {
        b'{"detail":"Invalid credentials.","code":"invalid_credentials"}'
    }


@pytest.mark.django_db
def test_an_account_whose_username_is_locked_still_logs_in_with_its_email(
    api_client, low_login_rates
):
    user = UserFactory.create(username="alice", email="alice@example.com")
    for _ in range(3):
        login(api_client, "alice", "wrong-password")

    locked = login(api_client, "alice")
    by_email = login(api_client, "alice@example.com")

    assert (locked.status_code, by_email.status_code) == (429, 200)
    assert by_email.json()["id"] == user.pk


@pytest.mark.django_db
def test_a_name_without_an_account_is_locked_like_one_with(api_client, low_login_rates):
    UserFactory.create(username="alice")

    statuses = {
        name: [login(api_client, name, "wrong-password").status_code for _ in range(4)]
        for name in ("alice", "nobody_here")
    }

    assert statuses == {name: [401, 401, 401, 429] for name in ("alice", "nobody_here")}


@pytest.mark.django_db
# long s, dotless i, dotted capital I: PostgreSQL's UPPER() folds each to plain ASCII.
@pytest.mark.parametrize("spelling", ["ali\u017fe", "al\u0131se", "AL\u0130SE"])
def test_non_ascii_spellings_never_reach_an_ascii_username(api_client, spelling):
    UserFactory.create(username="alise")

    response = login(api_client, spelling)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid credentials.", "code": "invalid_credentials"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["[]", "null", '"abc"', "42"])
def test_login_with_a_json_body_that_is_not_an_object_is_a_400(api_client, body):
    response = api_client.post(LOGIN, data=body, content_type="application/json")

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code", "errors"}


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_simultaneous_wrong_passwords_cannot_pass_the_limit(low_login_rates):
    user = UserFactory.create()

    statuses = run_simultaneously(
        [lambda: login(APIClient(), user.username, "wrong-password").status_code] * 12
    )

    # The limit is 3: attempts queue on the account's row, so exactly 3 passwords are checked.
    assert sorted(statuses) == [401] * 3 + [429] * 9


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_simultaneous_wrong_passwords_from_one_address_cannot_pass_its_limit(
    monkeypatch,
):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_address": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    names = [UserFactory.create().username for _ in range(12)]

    statuses = run_simultaneously(
        [lambda name=name: login(APIClient(), name, "wrong-password").status_code for name in names]
    )

    # Twelve accounts, one address limited to 3: attempts from the address queue on its lock
    # (before, only the account's row was locked, and PostgreSQL let the address counter race).
    assert sorted(statuses) == [401] * 3 + [429] * 9


@pytest.mark.django_db
def test_login_looks_the_account_up_once(api_client, django_assert_num_queries):
    user = UserFactory.create()
    # Savepoint, authenticate()'s look-up, release; on PostgreSQL also the two advisory locks
    # (name, address). A success adds the refresh token's row.
    locks = 2 if connection.vendor == "postgresql" else 0

    with django_assert_num_queries(4 + locks):
        assert login(api_client, user.username).status_code == 200
    with django_assert_num_queries(3 + locks):
        assert login(api_client, user.username, "wrong-password").status_code == 401
