"""Answers carrying tokens or personal data are never stored by a browser or a proxy."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from bookings.tests.factories import BookingFactory
from conftest import client_for

pytestmark = pytest.mark.django_db


def assert_not_stored(response, status: int) -> None:
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")


def test_answers_carrying_tokens_are_no_store(api_client):
    registered = api_client.post(
        "/api/register/",
        {"username": "john_doe", "email": "john@example.com", "password": "securepass123"},
    )
    logged_in = api_client.post(
        "/api/login/", {"username": "john_doe", "password": "securepass123"}
    )
    refreshed = api_client.post("/api/token/refresh/", {"refresh": logged_in.json()["refresh"]})

    assert_not_stored(registered, 201)
    assert_not_stored(logged_in, 200)
    assert_not_stored(refreshed, 200)


def test_personal_reads_are_no_store():
    booking = BookingFactory.create()
    guest, host = client_for(booking.guest), client_for(booking.property.owner)

    assert_not_stored(guest.get("/api/profile/"), 200)
    assert_not_stored(guest.get("/api/bookings/"), 200)
    assert_not_stored(guest.get(f"/api/bookings/{booking.pk}/"), 200)
    assert_not_stored(host.get(f"/api/properties/{booking.property_id}/bookings/"), 200)


def test_refusals_are_no_store_too():
    user = UserFactory.create()

    assert_not_stored(APIClient().get("/api/profile/"), 401)
    assert_not_stored(
        APIClient().post("/api/login/", {"username": user.username, "password": "wrong-one"}),
        401,
    )
    assert_not_stored(
        APIClient().post("/api/login/", {"username": user.username, "password": PASSWORD}), 200
    )
