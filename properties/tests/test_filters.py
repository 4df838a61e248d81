from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.http import QueryDict

from accounts.tests.factories import UserFactory
from core.stays import utc_today
from properties.filters import property_filter_form_class
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

LIST = "/api/properties/"


def ids(api_client, **params) -> list[int]:
    response = api_client.get(LIST, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_location_is_a_case_insensitive_substring(api_client):
    nairobi = PropertyFactory.create(location="Nairobi, Kenya")
    PropertyFactory.create(location="Lagos, Nigeria")

    assert ids(api_client, location="nAIRobi") == [nairobi.pk]


def test_price_bounds_are_inclusive(api_client):
    cheap = PropertyFactory.create(price_per_night=Decimal("50.00"))
    mid = PropertyFactory.create(price_per_night=Decimal("75.50"))
    PropertyFactory.create(price_per_night=Decimal("120.00"))

    assert ids(api_client, min_price="50", max_price="75.50") == [mid.pk, cheap.pk]
    assert ids(api_client, min_price="75.51") != [mid.pk]


def test_owner_is_an_exact_username_ignoring_case(api_client):
    host = UserFactory.create(username="host_one")
    mine = PropertyFactory.create(owner=host)
    PropertyFactory.create(owner=UserFactory.create(username="host_one_more"))

    assert ids(api_client, owner="HOST_ONE") == [mine.pk]


def test_search_matches_title_description_or_location(api_client):
    by_title = PropertyFactory.create(title="Seaside loft", description="", location="Lisbon")
    by_description = PropertyFactory.create(
        title="Flat", description="Right by the SEASIDE", location="Porto"
    )
    by_location = PropertyFactory.create(title="Flat", description="", location="Seaside Town")
    PropertyFactory.create(title="Mountain cabin", description="Snow", location="Alps")

    assert ids(api_client, search="seaside") == [by_location.pk, by_description.pk, by_title.pk]


def test_available_filters_on_the_flag(api_client):
    open_ = PropertyFactory.create(availability=True)
    closed = PropertyFactory.create(availability=False)

    assert ids(api_client, available="true") == [open_.pk]
    assert ids(api_client, available="false") == [closed.pk]


def test_stay_dates_hide_properties_closed_for_booking(api_client):
    open_ = PropertyFactory.create(availability=True)
    PropertyFactory.create(availability=False)
    check_in = utc_today() + timedelta(days=10)

    assert ids(api_client, check_in=check_in, check_out=check_in + timedelta(days=3)) == [open_.pk]


def test_filters_combine(api_client):
    match = PropertyFactory.create(location="Nairobi", price_per_night=Decimal("80"), title="Loft")
    PropertyFactory.create(location="Nairobi", price_per_night=Decimal("200"), title="Loft")
    PropertyFactory.create(location="Lagos", price_per_night=Decimal("80"), title="Loft")
    PropertyFactory.create(
        location="Nairobi", price_per_night=Decimal("80"), title="Loft", availability=False
    )

    assert ids(
        api_client, location="nairobi", max_price="100", search="loft", available="true"
    ) == [match.pk]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price_per_night", ["cheap", "mid_a", "mid_b", "dear"]),
        ("-price_per_night", ["dear", "mid_b", "mid_a", "cheap"]),
        ("created_at", ["cheap", "mid_a", "dear", "mid_b"]),
        ("-created_at", ["mid_b", "dear", "mid_a", "cheap"]),
    ],
)
def test_ordering_with_a_stable_tie_breaker(api_client, ordering, expected):
    made = {
        "cheap": PropertyFactory.create(price_per_night=Decimal("10")),
        "mid_a": PropertyFactory.create(price_per_night=Decimal("50")),
        "dear": PropertyFactory.create(price_per_night=Decimal("90")),
        "mid_b": PropertyFactory.create(price_per_night=Decimal("50")),
    }
    name_of = {listing.pk: name for name, listing in made.items()}

    assert [name_of[pk] for pk in ids(api_client, ordering=ordering)] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "1e999999"}, "max_price"),
        ({"ordering": "title"}, "ordering"),
        ({"ordering": "owner__password"}, "ordering"),
        ({"ordering": "price_per_night,created_at"}, "ordering"),
        ({"min_price": "-1"}, "min_price"),
        ({"min_price": "1.005"}, "min_price"),
        ({"max_price": "1000000.01"}, "max_price"),
        ({"available": "maybe"}, "available"),
        ({"check_in": "2030-13-01", "check_out": "2030-12-05"}, "check_in"),
        ({"check_in": "2030-01-01"}, "check_out"),
        ({"check_out": "2030-01-01"}, "check_in"),
        ({"search": "x" * 256}, "search"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api_client, params, field):
    response = api_client.get(LIST, params)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Invalid input."
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_stay_dates_follow_the_booking_rules(api_client):
    # Noon UTC: yesterday (UTC's) is past in every zone, even UTC-12's (at midnight). Between
    # UTC midnight and noon it is still today west of UTC: the clock is pinned.
    with time_machine.travel(datetime(2031, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        today = utc_today()
        cases = {
            "check_out": {
                "check_in": today + timedelta(days=5),
                "check_out": today + timedelta(days=5),
            },
            "check_in": {
                "check_in": today - timedelta(days=1),
                "check_out": today + timedelta(days=2),
            },
        }
        too_long = {"check_in": today, "check_out": today + timedelta(days=366)}

        for field, params in cases.items():
            assert list(api_client.get(LIST, params).json()["errors"]) == [field]
        assert list(api_client.get(LIST, too_long).json()["errors"]) == ["check_out"]
        assert (
            api_client.get(
                LIST, {"check_in": today, "check_out": today + timedelta(days=365)}
            ).status_code
            == 200
        )


def test_an_unknown_ordering_names_the_valid_values(api_client):
    response = api_client.get(LIST, {"ordering": "title"})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "ordering": [
            "title is not one of the valid values: "
            "price_per_night, -price_per_night, created_at, -created_at, distance."
        ]
    }


def test_search_forms_share_their_fields_and_nothing_else():
    # The search's forms share one set of fields (core.api.query.SharedFields): a form's
    # errors, data and cleaned values must stay its own.
    form_class = property_filter_form_class()
    refused = form_class(QueryDict("ordering=title&guests=0"))
    accepted = form_class(QueryDict("ordering=-price_per_night&guests=3"))

    assert not refused.is_valid()
    assert accepted.is_valid()
    assert refused.fields["ordering"] is accepted.fields["ordering"]
    assert sorted(refused.errors) == ["guests", "ordering"]
    assert refused.errors["ordering"] == [
        "title is not one of the valid values: "
        "price_per_night, -price_per_night, created_at, -created_at, distance."
    ]
    assert (accepted.cleaned_data["ordering"], accepted.cleaned_data["guests"]) == (
        "-price_per_night",
        3,
    )
    assert form_class(QueryDict("")).is_valid()
