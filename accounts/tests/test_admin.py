"""The admin's login shares the API login's failed-login counters and limits (user_login)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def low_login_rates(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_username": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def admin_login(client, name, password=PASSWORD):
    return client.post(ADMIN_LOGIN, {"username": name, "password": password})


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_signs_a_staff_member_in():
    staff = UserFactory.create(is_staff=True)
    client = Client()

    response = admin_login(client, staff.username)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert is_signed_in(client)


def test_admin_failures_lock_the_account_for_the_admin_and_the_api():
    staff = UserFactory.create(is_staff=True)
    client = Client()
    failures = [admin_login(client, staff.username, "wrong-password") for _ in range(3)]

    locked = admin_login(client, staff.username)
    api = APIClient().post("/api/login/", {"username": staff.username, "password": PASSWORD})

    # Before, the admin never counted: 25 wrong passwords, then the right one signed in.
    assert [r.status_code for r in failures] == [200] * 3
    assert all(b"correct username and password" in r.content for r in failures)
    assert locked.status_code == 200
    assert b"Too many failed logins. Try again in" in locked.content
    assert not is_signed_in(client)
    assert api.status_code == 429


def test_api_failures_lock_the_admin_login_too():
    staff = UserFactory.create(is_staff=True)
    for _ in range(3):
        APIClient().post("/api/login/", {"username": staff.username, "password": "wrong-one"})
    client = Client()

    response = admin_login(client, staff.username)

    assert response.status_code == 200
    assert b"Too many failed logins" in response.content
    assert not is_signed_in(client)


def test_a_non_staff_account_with_the_right_password_is_refused_and_not_counted():
    user = UserFactory.create(is_staff=False)
    client = Client()

    statuses = [admin_login(client, user.username).status_code for _ in range(4)]

    assert statuses == [200] * 4
    assert not is_signed_in(client)
    assert (
        APIClient().post("/api/login/", {"username": user.username, "password": PASSWORD})
    ).status_code == 200
