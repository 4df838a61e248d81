"""What a listing says about itself: capacity, amenities, house rules, address and place, time
zone and currency; each rule a 400 naming the field, and the place worked out when not given."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from properties.models import Amenity, Property
from properties.tests.factories import PropertyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("amenities")]

LIST = "/api/properties/"
SEED = {
    "title": "Modern Studio",
    "description": "A nice apartment in the city center.",
    "price_per_night": 75,
    "location": "Nairobi, Kenya",
    "availability": True,
}


def create(client, **fields):
    return client.post(LIST, {**SEED, **fields})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_guests", 0),
        ("max_guests", 51),
        ("bedrooms", -1),
        ("beds", 101),
        ("bathrooms", 1.25),
        ("bathrooms", "2"),
        ("room_type", "castle"),
        ("property_type", "igloo"),
        ("currency", "usd"),
        ("currency", "XYZ"),
        ("country", "UK"),
        ("country", {"code": "KE"}),
        ("latitude", 90.5),
        ("longitude", -180.5),
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "UTC+3"),
        ("check_in_from", "3pm"),
        ("check_out_until", "25:00"),
        ("amenities", ["wifi", "jacuzzi_on_the_moon"]),
        ("house_rules", "No parties\u202e"),
        ("city", "Nai\u200brobi"),
    ],
)
def test_each_invalid_value_is_a_400_naming_its_field(auth_client, field, value):
    response = create(auth_client, **{"latitude": 1, "longitude": 1, field: value})

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["errors"]) == [field]
    assert Property.objects.count() == 0


def test_coordinates_come_in_pairs(auth_client):
    response = create(auth_client, latitude=1.5)

    assert response.status_code == 400
    assert response.json()["errors"] == {"longitude": ["Give latitude and longitude together."]}


def test_a_whole_listing_is_stored_and_shown(auth_client):
    response = create(
        auth_client,
        room_type="private_room",
        property_type="villa",
        max_guests=6,
        bedrooms=3,
        beds=4,
        bathrooms=2.5,
        amenities=["wifi", "pool", "kitchen"],
        check_in_from="14:00",
        check_in_until="22:30",
        check_out_until="10:00",
        pets_allowed=True,
        house_rules="Quiet after 22:00.\nNo shoes inside.",
        street="1 Kenyatta Ave",
        city="Mombasa",
        region="Coast",
        postal_code="80100",
        country="KE",
        latitude=-4.05466,
        longitude=39.66359,
        currency="KES",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {key: body[key] for key in ("room_type", "max_guests", "bathrooms", "amenities")} == {
        "room_type": "private_room",
        "max_guests": 6,
        "bathrooms": 2.5,
        "amenities": ["wifi", "kitchen", "pool"],  # by category, then code
    }
    assert (body["check_in_until"], body["city"], body["country"]) == ("22:30:00", "Mombasa", "KE")
    assert (body["currency"], body["time_zone"]) == ("KES", "Africa/Nairobi")
    listing = Property.objects.get()
    assert listing.bathrooms == Decimal("2.5")
    assert listing.latitude == Decimal("-4.054660")


def test_the_seed_body_gets_its_place_from_the_gazetteer(auth_client):
    response = create(auth_client, location="Kraków, Poland")

    body = response.json()
    assert (body["city"], body["country"], body["time_zone"]) == ("Kraków", "PL", "Europe/Warsaw")
    assert (body["latitude"], body["longitude"]) == (50.06143, 19.93658)


def test_a_place_the_gazetteer_does_not_know_uses_the_default_zone(auth_client, settings):
    settings.LISTING_DEFAULT_TIME_ZONE = "Europe/Lisbon"

    body = create(auth_client, location="A quiet valley").json()

    assert (body["city"], body["country"], body["latitude"]) == ("", "", None)
    assert body["time_zone"] == "Europe/Lisbon"


def test_coordinates_decide_the_zone_and_an_explicit_zone_wins(auth_client):
    auckland = create(auth_client, location="Somewhere", latitude=-36.85, longitude=174.76)
    explicit = create(
        auth_client, location="Somewhere", latitude=-36.85, longitude=174.76, time_zone="UTC"
    )

    assert auckland.json()["time_zone"] == "Pacific/Auckland"
    assert explicit.json()["time_zone"] == "UTC"


def test_moving_a_listing_reads_its_new_place(auth_client, user):
    listing_id = create(auth_client).json()["id"]

    moved = auth_client.patch(f"{LIST}{listing_id}/", {"location": "Tokyo, Japan"})

    body = moved.json()
    assert (body["city"], body["country"], body["time_zone"]) == ("Tokyo", "JP", "Asia/Tokyo")


def test_the_currency_defaults_to_the_setting(auth_client, settings):
    settings.DEFAULT_CURRENCY = "EUR"

    assert create(auth_client).json()["currency"] == "EUR"


def test_the_amenity_vocabulary_is_public_and_stable(api_client):
    response = api_client.get("/api/amenities/")

    codes = [amenity["code"] for amenity in response.json()]
    assert response.status_code == 200
    assert len(codes) == Amenity.objects.count() >= 30
    assert {"wifi", "kitchen", "washer", "air_conditioning", "pool", "ev_charger", "crib"} <= set(
        codes
    )
    assert api_client.get("/api/amenities/wifi/").json() == {
        "code": "wifi",
        "name": "Wi-Fi",
        "category": "essentials",
    }
    assert api_client.get("/api/amenities/nope/").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"max_guests": 0},
        {"max_guests": 51},
        {"bathrooms": Decimal("1.3")},
        {"room_type": "castle"},
        {"latitude": Decimal("10")},  # without longitude
        {"currency": "usd"},
        {"time_zone": ""},
    ],
)
def test_the_database_refuses_what_the_api_refuses(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        PropertyFactory.create(**fields)


def test_search_columns_follow_every_save():
    listing = PropertyFactory.create(title="Chalet", city="Zürich", description="Près du lac")

    listing.title = "Château"
    listing.save(update_fields=["title"])

    listing.refresh_from_db()
    assert listing.search_text == "chateau pres du lac nairobi, kenya zurich"
    assert listing.city_key == "zurich"


@pytest.mark.parametrize(
    "amenities",
    [["wi\u0000fi"], ["wifi"] * 101, ["WIFI"], "wifi", [1]],
)
def test_amenities_are_a_short_list_of_codes_checked_in_one_query(auth_client, amenities):
    response = create(auth_client, amenities=amenities)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["amenities"]
    assert Property.objects.count() == 0


def test_a_summary_of_blank_text_is_not_a_crash():
    from properties.serializers import summary_of

    assert summary_of(" " * 200 + "word") == "…"


def test_an_edit_read_before_a_delete_does_not_bring_the_listing_back():
    from core.exceptions import NotFound
    from properties.services import property_delete, property_update

    listing = PropertyFactory.create()
    stale = Property.objects.get(pk=listing.pk)
    property_delete(listing=listing)

    with pytest.raises(NotFound):
        property_update(listing=stale, title="Back from the dead")

    assert Property.all_objects.get(pk=listing.pk).deleted_at is not None
    assert not Property.objects.filter(pk=listing.pk).exists()


def test_errors_inside_a_list_are_flat_messages_naming_the_item(auth_client):
    response = create(auth_client, amenities=["wifi", 7, "pool", None])

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "amenities": ["1: Not a valid string.", "3: This field may not be null."]
    }
