"""Issue 12: input an outside probe found crashing or slipping through. Each test names the
probe it answers; the schema-wide corpus is core/tests/test_hostile_corpus.py."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import user_create
from accounts.tests.factories import UserFactory
from bookings.models import Booking
from core.stays import utc_today
from core.validators import email_normalize
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

STUDIO = '{"title": "Studio", "location": "Nairobi", "price_per_night": %s}'


def _register(client, email, username="bob_two", password="correct-horse-battery"):
    body = {"username": username, "email": email, "password": password}
    return client.post("/api/register/", body, format="json")


# --- 1. Nesting, NaN and broken strings in JSON bodies ---------------------------------------


def test_deeply_nested_json_is_a_400_not_a_500(api_client):
    response = api_client.post(
        "/api/login/", "[" * 1000 + "]" * 1000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - nested deeper than 32 levels.",
        "code": "parse_error",
    }


def test_nesting_is_allowed_up_to_32_levels(api_client):
    def register(depth: int, username: str):
        extra = "[" * (depth - 1) + "]" * (depth - 1)  # the body itself is the first level
        body = (
            f'{{"username": "{username}", "email": "{username}@example.com", '
            f'"password": "correct-horse-battery", "extra": {extra}}}'
        )
        return api_client.post("/api/register/", body, content_type="application/json")

    at_limit = register(32, "deep_32")
    over_limit = register(33, "deep_33")

    assert at_limit.status_code == 201
    assert over_limit.status_code == 400
    assert list(User.objects.values_list("username", flat=True)) == ["deep_32"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_a_400(auth_client, literal):
    response = auth_client.post(
        "/api/properties/", STUDIO % literal, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert not Property.objects.exists()


def test_a_lone_surrogate_in_a_string_is_a_400_not_a_500(api_client):
    body = '{"username": "bob_two", "email": "b@example.com", "password": "pass\\ud800word-long"}'

    response = api_client.post("/api/register/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "JSON parse error - a string holds a lone surrogate.",
        "code": "parse_error",
    }
    assert not User.objects.exists()


# --- 2. Numbers the money column cannot hold -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_price", "1e-16384"),
        ("max_price", "-1e200000"),
        ("min_price", "7.5e1"),
        ("max_price", "NaN"),
        ("max_price", "Infinity"),
        ("min_price", "75.001"),
        ("max_price", "12345678"),
        ("min_price", "-5"),
    ],
)
def test_prices_the_column_cannot_hold_are_a_400_naming_the_parameter(api_client, name, value):
    PropertyFactory.create()

    response = api_client.get("/api/properties/", {name: value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]


@pytest.mark.parametrize(
    "literal", ["1e-16384", "-1e200000", "1e400", "75.000000000000000001", "0.001"]
)
def test_body_prices_are_checked_digit_for_digit(auth_client, literal):
    response = auth_client.post(
        "/api/properties/", STUDIO % literal, content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["price_per_night"]
    assert not Property.objects.exists()


def test_a_json_decimal_is_stored_exactly(auth_client):
    response = auth_client.post(
        "/api/properties/", STUDIO % "80.10", content_type="application/json"
    )

    assert response.status_code == 201
    assert str(Property.objects.get().price_per_night) == "80.10"


# --- 3. Digits of other scripts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("check_in", "٢٠٢٧-٠٦-١٠"), ("check_out", "２０３１-０１-０５"), ("property_id", "٥")],
)
def test_non_ascii_digits_in_a_booking_are_a_400(auth_client, field, value):
    listing = PropertyFactory.create()
    start = utc_today() + timedelta(days=10)
    body = {
        "property_id": listing.pk,
        "check_in": str(start),
        "check_out": str(start + timedelta(days=3)),
    }

    response = auth_client.post("/api/bookings/", {**body, field: value}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Booking.objects.exists()


def test_fullwidth_price_in_a_body_is_a_400(auth_client):
    response = auth_client.post(
        "/api/properties/", STUDIO % '"７５"', content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["price_per_night"]
    assert not Property.objects.exists()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("min_price", "５"),
        ("max_price", "٧٥"),
        ("page", "٢"),
        ("page_size", "５"),
        ("check_in", "٢٠٢٧-٠٦-١٠"),
    ],
)
def test_non_ascii_digits_in_the_query_are_a_400_naming_the_parameter(api_client, name, value):
    response = api_client.get("/api/properties/", {name: value})

    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_non_ascii_digits_in_the_calendar_window_are_a_400(api_client):
    listing = PropertyFactory.create()

    response = api_client.get(f"/api/properties/{listing.pk}/availability/", {"from": "٢٠٢٧-٠٦-١٠"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["from"]


# --- 4. One mailbox, one account; no invisible text ------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("bob@exa\u00admple.com", "Invisible or direction-changing characters"),
        ("bob@exa\u200dmple.com", "Invisible or direction-changing characters"),
        ("x@\u202emoc.elpmaxe.com", "Invisible or direction-changing characters"),
        ("bob@ｅｘａｍｐｌｅ.com", "A user with that email already exists."),
        ("BOB@Example.COM", "A user with that email already exists."),
        ("bob@ex\u0430mple.com", "The domain mixes alphabets"),  # Cyrillic а
        ("bob@xn--exmple-4nf.com", "The domain mixes alphabets"),  # the same, as an A-label
        ("b\u00f6b@example.com", "Use only ASCII letters"),
    ],
)
def test_one_mailbox_cannot_open_a_second_account(api_client, email, message):
    UserFactory.create(email="bob@example.com")

    response = _register(api_client, email)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]
    assert response.json()["errors"]["email"][0].startswith(message)
    assert list(User.objects.values_list("email", flat=True)) == ["bob@example.com"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Bob@ＥＸＡＭＰＬＥ.com", "bob@example.com"),
        ("anna@xn--bcher-kva.de", "anna@bücher.de"),
        ("anna@BÜCHER.de", "anna@bücher.de"),
        ("anna@пример.рф", "anna@пример.рф"),  # one script per label is fine
        ("anna@日本のカタカナ.jp", "anna@日本のカタカナ.jp"),  # Han + kana: ordinary Japanese
    ],
)
def test_emails_are_stored_in_their_normal_form(api_client, given, stored):
    response = _register(api_client, given)

    assert response.status_code == 201
    assert response.json()["email"] == stored
    assert User.objects.get().email == stored


def test_the_service_normalises_too():
    user = user_create(username="anna", email="Anna@ＥＸＡＭＰＬＥ.com", password="correct-horse-1")

    with pytest.raises(ValidationError) as refused:
        user_create(username="anna_2", email="anna@example.com", password="correct-horse-1")

    assert user.email == "anna@example.com"
    assert refused.value.message_dict == {"email": ["A user with that email already exists."]}


def test_profile_email_change_is_normalised_and_checked(auth_client, user, password):
    UserFactory.create(email="bob@example.com")

    taken = auth_client.patch(
        "/api/profile/",
        {"email": "bob@ｅｘａｍｐｌｅ.com", "current_password": password},
        format="json",
    )
    changed = auth_client.patch(
        "/api/profile/", {"email": "Me@Ｅxample.org", "current_password": password}, format="json"
    )

    assert taken.status_code == 400
    assert taken.json()["errors"] == {"email": ["A user with that email already exists."]}
    assert changed.status_code == 200
    user.refresh_from_db()
    assert user.email == "me@example.org"


@pytest.mark.parametrize("field", ["title", "description", "location"])
@pytest.mark.parametrize("character", ["\u202e", "\u200b", "\u00ad", "\u2066", "\x07", "\u2028"])
def test_invisible_characters_in_property_text_are_a_400(auth_client, field, character):
    body = {"title": "Studio", "location": "Nairobi", "price_per_night": 75}

    response = auth_client.post(
        "/api/properties/", {**body, field: f"Nice{character}place"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert not Property.objects.exists()


def test_a_description_keeps_its_line_breaks_and_any_script(auth_client):
    text = "Two rooms.\r\nقريب من البحر\tЦентр города. 東京 ٥ minutes 🌊"

    response = auth_client.post(
        "/api/properties/",
        {"title": "Studio ٥", "location": "Αθήνα", "price_per_night": 75, "description": text},
        format="json",
    )

    assert response.status_code == 201
    assert Property.objects.get().description == text


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_invisible_characters_in_profile_names_are_a_400(auth_client, user, field):
    response = auth_client.patch("/api/profile/", {field: "Bob\u202eevil"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    user.refresh_from_db()
    assert getattr(user, field) == ""


def test_models_refuse_invisible_text_and_store_the_normal_email():
    user = UserFactory.build(email="Bob@ＥＸＡＭＰＬＥ.com", first_name="Bob\u200b")
    listing = PropertyFactory.build(owner=UserFactory.create(), title="Nice\u202eplace")

    with pytest.raises(ValidationError) as user_errors:
        user.full_clean()
    with pytest.raises(ValidationError) as listing_errors:
        listing.full_clean()

    assert set(user_errors.value.message_dict) == {"first_name"}
    assert set(listing_errors.value.message_dict) == {"title"}
    user.first_name = "Bob"
    user.full_clean()
    assert user.email == "bob@example.com"


def test_email_normalize_refuses_what_has_no_normal_form():
    with pytest.raises(ValidationError):
        email_normalize("bob@exa mple..com")

    assert email_normalize("bob@[192.0.2.1]") == "bob@[192.0.2.1]"


# --- 5. Passwords of spaces ------------------------------------------------------------------


@pytest.mark.parametrize("password", [" " * 10, "\t\n" * 6, "a b c d e f g ", "\u3000" * 12])
def test_a_password_of_mostly_whitespace_is_refused(api_client, password):
    response = _register(api_client, "bob@example.com", password=password)

    assert response.status_code == 400
    assert response.json()["errors"]["password"] == [
        "This password must contain at least 8 characters that are not spaces."
    ]
    assert not User.objects.exists()


def test_a_passphrase_with_spaces_is_fine(api_client):
    response = _register(api_client, "bob@example.com", password="correct horse battery")

    assert response.status_code == 201
    assert User.objects.get().check_password("correct horse battery")
