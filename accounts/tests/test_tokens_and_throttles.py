"""Findings of the first review: refresh-token races and revocation, throttle keys, odd bodies."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from conftest import run_simultaneously

LOGIN = "/api/login/"
REFRESH = "/api/token/refresh/"


def login(client, name, password=PASSWORD):
    return client.post(LOGIN, {"username": name, "password": password})


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_yield_exactly_one_new_pair():
    user = UserFactory()
    refresh = login(APIClient(), user.username).json()["refresh"]

    statuses = run_simultaneously(
        [lambda: APIClient().post(REFRESH, {"refresh": refresh}).status_code] * 12
    )

    assert sorted(statuses) == [200] + [401] * 11
    # The login's token and the one new token: no second chain was started.
    assert OutstandingToken.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_refresh_after_a_password_change_is_refused(api_client):
    user = UserFactory()
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
    user = UserFactory()
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
def test_username_and_email_share_one_failed_login_counter(api_client, low_login_rates):
    user = UserFactory(username="alice", email="alice@example.com")

    statuses = [
        login(api_client, name, "wrong-password").status_code
        for name in ("alice", "ALICE@example.com", "Alice")
    ]
    locked = login(api_client, user.email)

    assert statuses == [401, 401, 401]
    assert locked.status_code == 429


@pytest.mark.django_db
# long s, dotless i, dotted capital I: PostgreSQL's UPPER() folds each to plain ASCII.
@pytest.mark.parametrize("spelling", ["ali\u017fe", "al\u0131se", "AL\u0130SE"])
def test_non_ascii_spellings_never_reach_an_ascii_username(api_client, spelling):
    UserFactory(username="alise")

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
    user = UserFactory()

    statuses = run_simultaneously(
        [lambda: login(APIClient(), user.username, "wrong-password").status_code] * 12
    )

    # The limit is 3: attempts queue on the account's row, so exactly 3 passwords are checked.
    assert sorted(statuses) == [401] * 3 + [429] * 9


@pytest.mark.django_db
def test_login_looks_the_account_up_twice_at_most(api_client, django_assert_num_queries):
    user = UserFactory()

    # Savepoint, the locked look-up (which the throttle keys on), authenticate()'s own
    # look-up, release; a success adds the refresh token's row.
    with django_assert_num_queries(5):
        assert login(api_client, user.username).status_code == 200
    with django_assert_num_queries(4):
        assert login(api_client, user.username, "wrong-password").status_code == 401
