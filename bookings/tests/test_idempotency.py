"""POST /api/bookings/ with an Idempotency-Key: a retry gets the first answer, never a second
booking nor a 409, on one instance or many (the key lives in the database)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from bookings.models import Booking, IdempotencyKey
from conftest import client_for, run_simultaneously
from core.stays import utc_today
from properties.tests.factories import PropertyFactory

URL = "/api/bookings/"
KEY = "5f0c8a4e-2b1d-4c7e-9a3f-6d2e1b0c9a8f"


def stay(listing, start=10, nights=3) -> dict:
    check_in = utc_today() + timedelta(days=start)
    return {
        "property_id": listing.pk,
        "check_in": str(check_in),
        "check_out": str(check_in + timedelta(days=nights)),
    }


@pytest.mark.django_db
def test_same_key_and_body_returns_the_first_response_and_books_once(auth_client, user):
    body = stay(PropertyFactory.create())

    first = auth_client.post(URL, body, HTTP_IDEMPOTENCY_KEY=KEY)
    second = auth_client.post(URL, body, HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert list(Booking.objects.values_list("pk", "guest")) == [(first.json()["id"], user.pk)]


@pytest.mark.django_db
def test_same_key_with_another_body_is_a_422_and_books_nothing_more(auth_client):
    listing = PropertyFactory.create()
    first = auth_client.post(URL, stay(listing), HTTP_IDEMPOTENCY_KEY=KEY)

    other = auth_client.post(URL, stay(listing, start=40), HTTP_IDEMPOTENCY_KEY=KEY)

    assert other.status_code == 422
    assert other.json() == {
        "detail": "This Idempotency-Key was already used for a different booking request; "
        "use a new key for a new request.",
        "code": "idempotency_key_reused",
    }
    assert list(Booking.objects.values_list("pk", flat=True)) == [first.json()["id"]]


@pytest.mark.django_db
def test_keys_belong_to_their_user(auth_client):
    listing = PropertyFactory.create()
    mine = auth_client.post(URL, stay(listing), HTTP_IDEMPOTENCY_KEY=KEY)

    theirs = client_for(UserFactory.create()).post(
        URL, stay(listing, start=20), HTTP_IDEMPOTENCY_KEY=KEY
    )

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]
    assert Booking.objects.count() == 2


@pytest.mark.django_db
def test_a_failed_request_does_not_spend_its_key(auth_client):
    listing = PropertyFactory.create()
    taken = client_for(UserFactory.create()).post(URL, stay(listing))

    conflict = auth_client.post(URL, stay(listing), HTTP_IDEMPOTENCY_KEY=KEY)
    elsewhere = auth_client.post(URL, stay(listing, start=30), HTTP_IDEMPOTENCY_KEY=KEY)

    assert (taken.status_code, conflict.status_code, elsewhere.status_code) == (201, 409, 201)
    assert IdempotencyKey.objects.get().booking_id == elsewhere.json()["id"]


@pytest.mark.django_db
def test_a_key_older_than_24_hours_books_again(auth_client):
    listing = PropertyFactory.create()
    first = auth_client.post(URL, stay(listing), HTTP_IDEMPOTENCY_KEY=KEY)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))

    later = auth_client.post(URL, stay(listing, start=30), HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, later.status_code) == (201, 201)
    assert Booking.objects.count() == 2
    assert IdempotencyKey.objects.get().booking_id == later.json()["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-key", "two words"])
def test_malformed_key_is_a_400_naming_the_header(auth_client, key):
    response = auth_client.post(URL, stay(PropertyFactory.create()), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "validation_error",
        "errors": {"Idempotency-Key": ["Use 1 to 255 visible ASCII characters, e.g. a UUID."]},
    }
    assert not Booking.objects.exists()


@pytest.mark.django_db
def test_purge_deletes_only_expired_keys(auth_client):
    listing = PropertyFactory.create()
    auth_client.post(URL, stay(listing), HTTP_IDEMPOTENCY_KEY="old")
    auth_client.post(URL, stay(listing, start=30), HTTP_IDEMPOTENCY_KEY="fresh")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))

    call_command("purge_idempotency_keys")

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert Booking.objects.count() == 2  # the bookings themselves stay


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_book_once_and_all_get_the_same_answer():
    guest = UserFactory.create()
    body = stay(PropertyFactory.create())
    clients = [client_for(guest) for _ in range(8)]

    responses = run_simultaneously(
        [
            lambda client=client: client.post(URL, body, HTTP_IDEMPOTENCY_KEY=KEY)
            for client in clients
        ]
    )

    assert [response.status_code for response in responses] == [201] * len(clients)
    assert len({response.content for response in responses}) == 1
    assert sum(response.has_header("Idempotent-Replayed") for response in responses) == 7
    assert Booking.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_guest_count_is_another_request(auth_client):
    listing = PropertyFactory.create(max_guests=4)
    first = auth_client.post(URL, {**stay(listing), "guests": 2}, HTTP_IDEMPOTENCY_KEY=KEY)

    other = auth_client.post(URL, {**stay(listing), "guests": 3}, HTTP_IDEMPOTENCY_KEY=KEY)

    assert (first.status_code, other.status_code) == (201, 422)
    assert list(Booking.objects.values_list("guests", flat=True)) == [2]
