from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.tests.factories import UserFactory
from core.stays import utc_today
from photos.tests.factories import PhotoFactory
from properties.models import Amenity, Property
from properties.serializers import PropertySerializer
from properties.services import amenity_vocabulary_ensure
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

LIST = "/api/properties/"

MODERN_STUDIO = {
    "title": "Modern Studio",
    "description": "A nice apartment in the city center.",
    "price_per_night": 75,
    "location": "Nairobi, Kenya",
    "availability": True,
}


def detail(listing) -> str:
    return f"/api/properties/{listing.pk}/"


def as_json_time(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


# --- create ----------------------------------------------------------------------------------


def test_create_returns_the_property_owned_by_the_caller(auth_client, user):
    response = auth_client.post(LIST, MODERN_STUDIO)

    assert response.status_code == 201
    listing = Property.objects.get()
    # The seed's fields as the seed sent them, then what a listing has by default, and the
    # place read from "Nairobi, Kenya" by the gazetteer.
    assert response.json() == {
        "id": listing.pk,
        **MODERN_STUDIO,
        "price_per_night": 75.0,
        "owner": user.username,
        "currency": "USD",
        "instant_book": True,
        "cancellation_policy": "flexible",
        "room_type": "entire_place",
        "property_type": "other",
        "max_guests": 2,
        "bedrooms": 1,
        "beds": 1,
        "bathrooms": 1.0,
        "amenities": [],
        "check_in_from": "15:00:00",
        "check_in_until": None,
        "check_out_until": "11:00:00",
        "pets_allowed": False,
        "smoking_allowed": False,
        "events_allowed": False,
        "house_rules": "",
        "street": "",
        "city": "Nairobi",
        "region": "",
        "postal_code": "",
        "country": "KE",
        "latitude": -1.28333,
        "longitude": 36.81667,
        "time_zone": "Africa/Nairobi",
        "created_at": as_json_time(listing.created_at),
        "updated_at": as_json_time(listing.updated_at),
        "cover_photo": None,
        "photos": [],
    }
    assert listing.owner == user
    assert listing.price_per_night == Decimal("75.00")


def test_create_keeps_money_exact(auth_client):
    response = auth_client.post(LIST, {**MODERN_STUDIO, "price_per_night": "75.5"})

    assert response.status_code == 201
    assert response.json()["price_per_night"] == 75.5
    assert Property.objects.get().price_per_night == Decimal("75.50")


def test_create_applies_defaults(auth_client):
    body = {k: v for k, v in MODERN_STUDIO.items() if k not in {"description", "availability"}}

    response = auth_client.post(LIST, body)

    assert response.status_code == 201
    assert (response.json()["description"], response.json()["availability"]) == ("", True)


def test_create_ignores_owner_id_and_timestamps_in_the_body(auth_client, user):
    other = UserFactory.create()

    response = auth_client.post(
        LIST,
        {
            **MODERN_STUDIO,
            "owner": other.username,
            "id": 4242,
            "created_at": "2001-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 201
    listing = Property.objects.get()
    assert listing.owner == user
    assert listing.pk != 4242
    assert listing.created_at.year == timezone.now().year


def test_create_needs_a_token(api_client):
    response = api_client.post(LIST, MODERN_STUDIO)

    assert response.status_code == 401
    assert Property.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 101),
        ("price_per_night", 0),
        ("price_per_night", -5),
        ("price_per_night", "75.123"),
        ("price_per_night", 1000000.01),
        ("price_per_night", "abc"),
        ("price_per_night", "NaN"),
        ("price_per_night", "0.00"),
        ("price_per_night", "1000000.01"),
        ("price_per_night", "0075"),
        ("title", "Nul\u0000"),
        ("location", ""),
        ("location", "x" * 256),
        ("description", "x" * 5001),
        ("availability", "maybe"),
    ],
)
def test_create_rejects_invalid_field(auth_client, field, value):
    response = auth_client.post(LIST, {**MODERN_STUDIO, field: value})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [field]
    assert Property.objects.count() == 0


@pytest.mark.parametrize("missing", ["title", "price_per_night", "location"])
def test_create_requires_field(auth_client, missing):
    body = {k: v for k, v in MODERN_STUDIO.items() if k != missing}

    response = auth_client.post(LIST, body)

    assert response.status_code == 400
    assert response.json()["errors"] == {missing: ["This field is required."]}


def test_create_accepts_the_boundaries(auth_client):
    ok = [
        auth_client.post(LIST, {**MODERN_STUDIO, "title": "x" * 100, "price_per_night": 0.01}),
        auth_client.post(
            LIST, {**MODERN_STUDIO, "price_per_night": 1000000, "location": "y" * 255}
        ),
    ]

    assert [r.status_code for r in ok] == [201, 201]


def test_create_trims_the_title(auth_client):
    response = auth_client.post(LIST, {**MODERN_STUDIO, "title": "  Modern Studio  "})

    assert response.json()["title"] == "Modern Studio"


# --- read ------------------------------------------------------------------------------------


def test_detail_is_public(api_client):
    listing = PropertyFactory.create()

    response = api_client.get(detail(listing))

    assert response.status_code == 200
    assert response.json()["id"] == listing.pk
    assert response.json()["owner"] == listing.owner.username


def test_unknown_property_is_404(api_client):
    for path in ("/api/properties/999999/", "/api/properties/abc/"):
        response = api_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


# --- update ----------------------------------------------------------------------------------


def test_owner_puts_the_full_object(user, auth_client):
    listing = PropertyFactory.create(owner=user)

    response = auth_client.put(
        detail(listing), {**MODERN_STUDIO, "title": "Renamed", "price_per_night": "80.25"}
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    listing.refresh_from_db()
    assert (listing.title, listing.price_per_night) == ("Renamed", Decimal("80.25"))


def test_put_without_a_required_field_is_a_400(user, auth_client):
    listing = PropertyFactory.create(owner=user, title="Before")

    response = auth_client.put(detail(listing), {"title": "Only title"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"price_per_night", "location"}
    listing.refresh_from_db()
    assert listing.title == "Before"


def test_owner_patches_a_subset_and_cannot_move_it(user, auth_client):
    listing = PropertyFactory.create(owner=user, title="Before", availability=True)
    other = UserFactory.create()

    response = auth_client.patch(
        detail(listing), {"availability": False, "owner": other.username, "id": 1}
    )

    assert response.status_code == 200
    listing.refresh_from_db()
    assert (listing.title, listing.availability, listing.owner) == ("Before", False, user)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_need_a_token(api_client, method):
    listing = PropertyFactory.create(title="Before")

    response = getattr(api_client, method)(detail(listing), MODERN_STUDIO)

    assert response.status_code == 401
    listing.refresh_from_db()
    assert (listing.title, listing.deleted_at) == ("Before", None)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_by_another_user_are_403(auth_client, method):
    listing = PropertyFactory.create(title="Before")

    response = getattr(auth_client, method)(detail(listing), MODERN_STUDIO)

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the owner can change this.",
        "code": "permission_denied",
    }
    listing.refresh_from_db()
    assert (listing.title, listing.deleted_at) == ("Before", None)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_writes_to_a_missing_property_are_404(auth_client, method):
    response = getattr(auth_client, method)("/api/properties/999999/", MODERN_STUDIO)

    assert response.status_code == 404


def test_patch_validates_like_create(user, auth_client):
    listing = PropertyFactory.create(owner=user)

    response = auth_client.patch(detail(listing), {"price_per_night": 0})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["price_per_night"]


# --- delete ----------------------------------------------------------------------------------


def test_owner_deletes_and_it_disappears_for_everyone(user, auth_client, api_client):
    listing = PropertyFactory.create(owner=user)

    response = auth_client.delete(detail(listing))

    assert response.status_code == 204
    assert api_client.get(detail(listing)).status_code == 404
    assert auth_client.get(detail(listing)).status_code == 404
    assert api_client.get(LIST).json()["count"] == 0
    assert auth_client.delete(detail(listing)).status_code == 404
    assert Property.all_objects.get(pk=listing.pk).deleted_at is not None


# --- list ------------------------------------------------------------------------------------


def test_list_envelope_and_default_page_of_20(api_client):
    PropertyFactory.create_batch(25)

    response = api_client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"].endswith("/api/properties/?page=2")
    assert body["previous"] is None


def test_page_size_is_honoured_up_to_20(api_client):
    PropertyFactory.create_batch(25)

    small = api_client.get(LIST, {"page_size": 5}).json()
    largest = api_client.get(LIST, {"page_size": 20}).json()

    assert len(small["results"]) == 5
    assert len(largest["results"]) == 20


def test_page_size_over_20_is_400(api_client):
    PropertyFactory.create_batch(25)

    response = api_client.get(LIST, {"page_size": 21})

    assert response.status_code == 400
    assert response.json()["errors"] == {"page_size": ["Must be at most 20."]}


@pytest.mark.parametrize(
    ("param", "value"),
    [("page", "0"), ("page", "-1"), ("page", "abc"), ("page_size", "0"), ("page_size", "x")],
)
def test_malformed_page_parameters_are_400(api_client, param, value):
    response = api_client.get(LIST, {param: value})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "code": "validation_error",
        "errors": {param: ["Must be a positive integer."]},
    }


def test_page_past_the_end_is_404(api_client):
    PropertyFactory.create_batch(3)

    response = api_client.get(LIST, {"page": 2})

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code"}


def test_default_order_is_newest_first_and_pages_are_stable(api_client):
    listings = PropertyFactory.create_batch(7)
    # Same timestamp for all: only the id tie-breaker decides.
    Property.objects.update(created_at=timezone.now())

    seen = []
    for page in (1, 2, 3):
        seen += [
            row["id"]
            for row in api_client.get(LIST, {"page": page, "page_size": 3}).json()["results"]
        ]

    assert seen == sorted((p.pk for p in listings), reverse=True)


def test_list_query_count_does_not_grow_with_rows(api_client, django_assert_num_queries):
    PropertyFactory.create_batch(20)

    # A COUNT, one page of rows joined to their owners and cover photos.
    with django_assert_num_queries(2):
        response = api_client.get(LIST, {"location": "nairobi"})

    assert len(response.json()["results"]) == 20


def test_list_rows_are_exactly_the_detail_representation(api_client):
    # The list renders plain rows without PropertySerializer: its JSON must not drift from it.
    owner = UserFactory.create(username="host_exact")
    for price in ("0.01", "75.50", "999999.99", "1000000.00"):
        PropertyFactory.create(owner=owner, price_per_night=Decimal(price), description="")
    PropertyFactory.create(
        availability=False, title="\u00dcn\u00efcode \u2013 \u201cquoted\u201d", location="Zürich"
    )

    response = api_client.get(LIST)

    rows = response.json()["results"]
    assert len(rows) == 5
    for row in rows:
        detail = api_client.get(f"{LIST}{row['id']}/").json()
        assert set(row) - set(detail) == {"summary"}
        shared = {key: detail[key] for key in row if key != "summary"}
        assert row == {**shared, "summary": detail["description"]}
    raw = response.content.decode()
    for price in ("0.01", "75.5", "999999.99", "1000000.0"):
        assert f'"price_per_night":{price},' in raw


def test_deep_pages_follow_the_requested_order(api_client, django_assert_num_queries):
    prices = [Decimal(p) for p in ("40.00", "10.00", "30.00", "10.00", "20.00")]
    listings = [PropertyFactory.create(price_per_night=price) for price in prices]
    expected = [p.pk for p in sorted(listings, key=lambda p: (p.price_per_night, p.pk))]

    seen = []
    for page in (1, 2, 3):
        with django_assert_num_queries(2):  # a COUNT, the page (a deferred join) with covers
            response = api_client.get(
                LIST, {"ordering": "price_per_night", "page": page, "page_size": 2, "min_price": 1}
            )
        seen += [row["id"] for row in response.json()["results"]]

    assert seen == expected


def test_unfiltered_deep_page_is_one_query_once_the_total_is_cached(
    api_client, django_assert_num_queries
):
    listings = PropertyFactory.create_batch(5)
    api_client.get(LIST)

    with django_assert_num_queries(1):  # the page with its covers
        response = api_client.get(LIST, {"page": 3, "page_size": 2})

    assert [row["id"] for row in response.json()["results"]] == [listings[0].pk]
    assert response.json()["count"] == 5


def test_detail_is_exactly_the_serializers_representation(api_client):
    # The detail is built from plain rows (properties.serializers.property_detail_
    # representation): it must not drift from PropertySerializer's, field for field.
    amenity_vocabulary_ensure()
    bare = PropertyFactory.create(description="", latitude=None, longitude=None, country="")
    full = PropertyFactory.create(
        title="\u00dcn\u00efcode \u2013 \u201cquoted\u201d",
        price_per_night=Decimal("999999.99"),
        bathrooms=Decimal("1.5"),
        latitude=Decimal("-1.283330"),
        longitude=Decimal("36.816670"),
        country="KE",
        check_in_until=time(22, 30),
    )
    full.amenities.set(Amenity.objects.filter(code__in=["wifi", "pool", "crib"]))
    # Through JSON on the way out of the database (core.db.json_rows): quotes, a backslash, a
    # line separator and accents come back as they went in.
    PhotoFactory.create(property=full, position=1, caption='Second "q\\u" \u00e9\u2028')
    PhotoFactory.create(property=full, position=0, caption="Cover")

    for listing in (bare, full):
        expected = PropertySerializer(Property.objects.get(pk=listing.pk)).data
        rendered = JSONRenderer().render(expected)
        assert api_client.get(detail(listing)).content == rendered


def test_detail_is_one_query(api_client, django_assert_num_queries):
    # The property with its owner, its amenities and its photos (core.db.json_rows).
    amenity_vocabulary_ensure()
    bare, full = PropertyFactory.create_batch(2)
    full.amenities.set(Amenity.objects.filter(code__in=["wifi", "pool", "crib", "kitchen"]))
    for position in (2, 0, 1):
        PhotoFactory.create(property=full, position=position, caption=f"Photo {position}")

    with django_assert_num_queries(1):
        shown = api_client.get(detail(full)).json()
    with django_assert_num_queries(1):
        empty = api_client.get(detail(bare)).json()

    vocabulary = Amenity.objects.filter(code__in=["wifi", "pool", "crib", "kitchen"])
    assert shown["amenities"] == [amenity.code for amenity in vocabulary]  # Meta.ordering
    assert [photo["caption"] for photo in shown["photos"]] == ["Photo 0", "Photo 1", "Photo 2"]
    assert (empty["amenities"], empty["photos"], empty["cover_photo"]) == ([], [], None)


def test_detail_takes_no_filter_parameters(api_client):
    # The list's filters are the list's: the schema never offered them on one property's URL.
    listing = PropertyFactory.create(location="Nairobi, Kenya")

    refused = api_client.get(detail(listing), {"location": "lagos", "page_size": 5})

    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "location": ["Unknown query parameter."],
        "page_size": ["Unknown query parameter."],
    }
    assert api_client.get(detail(listing), {"format": "json"}).json()["id"] == listing.pk


def test_format_json_is_not_a_filter(api_client, django_assert_num_queries):
    PropertyFactory.create_batch(3)
    api_client.get(LIST)

    with django_assert_num_queries(1):  # the page with its covers: the cached total holds
        response = api_client.get(LIST, {"format": "json"})

    assert response.json()["count"] == 3


def test_a_search_by_distance_is_two_queries(api_client, django_assert_num_queries):
    for offset in ("0.001", "0.002", "0.003"):
        PropertyFactory.create(
            latitude=Decimal("-1.28") + Decimal(offset), longitude=Decimal("36.82")
        )

    with django_assert_num_queries(2):  # the page's ids with the total, its rows with covers
        response = api_client.get(
            LIST, {"near": "-1.28,36.82", "radius_km": "5", "ordering": "distance", "page_size": 2}
        )

    body = response.json()
    assert body["count"] == 3
    distances = [row["distance_km"] for row in body["results"]]
    assert len(distances) == 2
    assert distances == sorted(distances)


def test_availability_search_is_two_queries(api_client, django_assert_num_queries):
    PropertyFactory.create_batch(3)
    start = utc_today() + timedelta(days=10)

    with django_assert_num_queries(2):  # the page's ids with the total, its rows with covers
        response = api_client.get(
            LIST,
            {
                "location": "nairobi",
                "check_in": start.isoformat(),
                "check_out": (start + timedelta(days=3)).isoformat(),
            },
        )

    assert response.json()["count"] == 3


def test_unfiltered_count_is_cached_and_forgotten_on_writes(
    user, auth_client, api_client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    PropertyFactory.create_batch(3)
    assert api_client.get(LIST).json()["count"] == 3

    with django_assert_num_queries(1):  # the page with its covers: the total is cached
        assert api_client.get(LIST, {"page_size": 2}).json()["count"] == 3

    with django_capture_on_commit_callbacks(execute=True):
        created = auth_client.post(LIST, MODERN_STUDIO).json()
    assert api_client.get(LIST).json()["count"] == 4
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.delete(f"/api/properties/{created['id']}/")
    assert api_client.get(LIST).json()["count"] == 3


def test_deleted_properties_are_not_listed(api_client):
    kept = PropertyFactory.create()
    PropertyFactory.create(deleted_at=timezone.now())

    body = api_client.get(LIST).json()

    assert [row["id"] for row in body["results"]] == [kept.pk]
    assert body["count"] == 1


def test_a_list_row_carries_a_summary_not_the_whole_description(api_client):
    words = " ".join(f"word{n}" for n in range(1000))  # ~6,900 characters
    short = PropertyFactory.create(description="A short one.")
    long = PropertyFactory.create(description=words[:5000])

    rows = {row["id"]: row for row in api_client.get(LIST).json()["results"]}

    assert "description" not in rows[long.pk]
    assert rows[short.pk]["summary"] == "A short one."
    summary = rows[long.pk]["summary"]
    assert summary.endswith("…")
    assert len(summary) <= 161
    assert words.startswith(summary[:-1])
    assert summary[:-1].split()[-1] in words.split()  # cut at a word, never inside one
