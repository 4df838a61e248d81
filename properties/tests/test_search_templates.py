"""Searches answered from query templates (core.compiled_queries.QueryTemplate) return exactly
what the ORM returns for the same criteria, for every filter, on both databases; a shape a
template cannot hold is answered by the ORM."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.db.models import F

from calendars.models import Hold
from core.compiled_queries import QueryTemplate
from properties import selectors
from properties.models import Amenity, Property
from properties.selectors import (
    PropertyCriteria,
    PropertySearch,
    property_filtered,
    property_list,
    property_page_rows,
)
from properties.tests.factories import PropertyFactory
from rates.tests.factories import RatePlanFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("amenities")]

LIST = "/api/properties/"
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
TODAY = date(2030, 6, 1)


def day(n: int) -> str:
    return str(TODAY + timedelta(days=n))


@pytest.fixture
def listings():
    """Listings spread over two cities, both sides of the antimeridian, with rules and holds."""
    made = []
    for index, (city, latitude, longitude) in enumerate(
        [
            ("Nairobi", "-1.28", "36.82"),
            ("Nairobi", "-1.30", "36.80"),
            ("Suva", "-18.14", "178.44"),
            ("Taveuni", "-16.80", "-179.97"),
            ("Nairobi", "-1.27", "36.85"),
            ("Mombasa", "-4.04", "39.66"),
        ]
    ):
        listing = PropertyFactory.create(
            city=city,
            country="KE" if city != "Suva" and city != "Taveuni" else "FJ",
            latitude=Decimal(latitude),
            longitude=Decimal(longitude),
            price_per_night=Decimal(60 + 25 * index),
            max_guests=1 + index,
            bedrooms=index % 3,
            beds=1 + index % 2,
            bathrooms=Decimal("0.5") * (1 + index % 3),
            pets_allowed=index % 2 == 0,
            availability=index != 4,
            room_type=["entire_place", "private_room"][index % 2],
            property_type=["apartment", "house", "cabin"][index % 3],
            time_zone=["Africa/Nairobi", "Pacific/Fiji", "America/Adak"][index % 3],
        )
        listing.amenities.set(Amenity.objects.filter(code__in=["wifi", "pool"][: index % 3]))
        made.append(listing)
    RatePlanFactory.create(property=made[1], min_nights=3)
    RatePlanFactory.create(property=made[5], advance_notice_days=2, preparation_nights=1)
    Hold.objects.create(
        property=made[0], kind=Hold.Kind.BLOCK, start=TODAY, end=TODAY.replace(day=9)
    )
    Hold.objects.create(
        property=made[5],
        kind=Hold.Kind.BOOKING,
        start=TODAY.replace(day=12),
        end=TODAY.replace(day=14),
    )
    return made


SEARCHES = [
    {"city": "nairobi"},
    {"city": "NAIRÓBI", "guests": "2", "min_price": "70", "max_price": "150"},
    {"country": "ke", "ordering": "price_per_night"},
    {
        "room_type": "private_room,entire_place",
        "property_type": "house",
        "ordering": "-price_per_night",
    },
    {"min_bedrooms": "1", "min_beds": "2", "min_bathrooms": "1.0", "ordering": "created_at"},
    {"amenities": "pool,wifi"},
    {"amenities": "wifi", "pets_allowed": "true", "available": "false"},
    {"bounds": "-2,36,0,37"},
    {"bounds": "-20,178,-15,-179"},  # across the antimeridian
    {"near": "-1.28,36.82", "radius_km": "5", "ordering": "distance"},
    {"near": "-17,179.9", "radius_km": "300", "ordering": "distance"},  # its box wraps
    {"near": "89.5,0", "radius_km": "100"},  # no longitude band near the pole
    {"check_in": day(10), "check_out": day(14)},
    {"check_in": day(3), "check_out": day(5), "guests": "3", "city": "nairobi"},
    {"check_in": day(2), "check_out": day(3), "near": "-4,39.6", "radius_km": "50"},
    {"check_in": day(0), "check_out": day(1), "ordering": "-created_at"},
]


@pytest.mark.parametrize("params", SEARCHES)
def test_every_filter_is_templated_and_answers_as_the_orm(api_client, listings, params):
    with time_machine.travel(NOW, tick=False):
        response = api_client.get(LIST, {**params, "page_size": 2})
        assert response.status_code == 200, response.json()
        criteria = _criteria(params)
        assert criteria.templated
        queryset = property_filtered(property_list(), criteria)
        expected = list(property_page_rows(queryset[0:2]))
        search = PropertySearch(criteria)

        rows, total = search.page(offset=0, limit=2)
        assert (total or 0) == queryset.count() == response.json()["count"]
        assert rows == expected
        later, _ = search.page(offset=2, limit=3)
        assert later == list(property_page_rows(queryset[2:5]))
        assert [row["id"] for row in response.json()["results"]] == [row["id"] for row in expected]
        # It was answered from a template, not the ORM fallback.
        one_pass = criteria.check_in or criteria.ordering == "distance"
        used = selectors._SEARCH_HITS if one_pass else selectors._SEARCH_COUNT
        assert used.templated(criteria.shape())


@pytest.mark.parametrize(
    "params", [{}, {"ordering": "price_per_night"}, {"ordering": "-created_at", "page": "2"}]
)
def test_the_unfiltered_list_pages_from_a_template_as_the_orm_would(
    api_client, listings, params, django_assert_num_queries
):
    # Its total is the cached count; its page, one query from the sort's template.
    criteria = _criteria({key: value for key, value in params.items() if key != "page"})
    queryset = property_filtered(property_list(), criteria)
    search = PropertySearch(criteria)

    assert search.rows(offset=0, limit=2) == list(property_page_rows(queryset[0:2]))
    assert search.rows(offset=2, limit=3) == list(property_page_rows(queryset[2:5]))
    assert selectors._SEARCH_PAGE.templated(criteria.shape())
    api_client.get(LIST)  # the total, cached
    with django_assert_num_queries(1):
        response = api_client.get(LIST, {**params, "page_size": 2})
    page = int(params.get("page", 1))
    expected = property_page_rows(queryset[(page - 1) * 2 : page * 2])
    assert [row["id"] for row in response.json()["results"]] == [row["id"] for row in expected]


def _criteria(params: dict) -> PropertyCriteria:
    from properties.filters import property_criteria, property_filter_form_class

    form = property_filter_form_class()(params)
    assert form.is_valid(), form.errors
    return property_criteria(form.cleaned_data)


def test_text_searches_go_through_the_orm(api_client, listings):
    criteria = _criteria({"search": "nairobi", "owner": listings[0].owner.username})

    assert not criteria.templated
    response = api_client.get(LIST, {"location": listings[0].location, "city": "nairobi"})
    assert response.status_code == 200
    assert listings[0].pk in [row["id"] for row in response.json()["results"]]


def test_a_derived_parameter_is_refused(listings):
    # The SQL binds price + 1, which is none of the values: substituting would be wrong, so
    # the ORM answers.
    template = QueryTemplate(
        lambda shape, values: Property.objects.filter(
            price_per_night__gte=values["price"] + 1
        ).values("id")
    )

    rows = template.execute("shape", {"price": Decimal("84")})
    assert not template.templated("shape")
    assert rows == list(Property.objects.filter(price_per_night__gte=85).values("id"))
    assert isinstance(rows, list)
    assert 0 < len(rows) < len(listings)


def test_sql_that_depends_on_a_value_is_refused():
    # One stand-in takes the other branch: the SQL is not the same for every value.
    template = QueryTemplate(
        lambda shape, values: Property.objects.filter(
            **({"max_guests__gte": 2} if values["guests"] % 2 else {"beds__gte": 2})
        ).values("id")
    )

    rows = template.execute("shape", {"guests": 3})
    assert not template.templated("shape")
    assert rows == list(Property.objects.filter(max_guests__gte=2).values("id"))


def test_rows_and_limits_are_the_querysets(listings):
    template = QueryTemplate(
        lambda shape, values: (
            Property.objects.filter(max_guests__gte=values["guests"])
            .order_by(*shape)
            .values("id", "price_per_night", "created_at", host=F("owner__username"))[
                values["offset"] : values["offset"] + values["limit"]
            ]
        )
    )
    for order in (("id",), ("-price_per_night", "id")):
        for guests, offset, limit in [(1, 0, 2), (2, 1, 3), (4, 0, 20), (9, 0, 1)]:
            expected = list(
                Property.objects.filter(max_guests__gte=guests)
                .order_by(*order)
                .values("id", "price_per_night", "created_at", host=F("owner__username"))[
                    offset : offset + limit
                ]
            )
            values = {"guests": guests, "offset": offset, "limit": limit}
            assert template.execute(order, values) == expected


def test_the_shapes_kept_are_bounded():
    template = QueryTemplate(
        lambda shape, values: Property.objects.filter(beds__gte=values["beds"]).values("id"),
        shapes=2,
    )
    for shape in ("a", "b", "c"):
        template.execute(shape, {"beds": 1})

    assert list(template._compiled) == [(template_vendor(), "b"), (template_vendor(), "c")]


def template_vendor() -> str:
    from django.db import connection

    return connection.vendor


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans and their indexes: PostgreSQL"
)
@pytest.mark.parametrize(
    ("params", "index", "scan"),
    [
        # A city's page walks the city's own listings, newest first (not every city's).
        ({"city": "city 3"}, "property_city_newest_idx", None),
        # A near page's candidates and their distances come from the coordinates index alone.
        (
            {"near": "10.05,20.05", "radius_km": "20", "ordering": "distance"},
            "property_listed_coords_idx",
            "Index Only Scan",
        ),
    ],
)
def test_search_pages_read_the_index_made_for_them(params, index, scan):
    for city in range(10):
        PropertyFactory.create_batch(
            30,
            city=f"City {city}",
            latitude=Decimal(10 + city) + Decimal("0.05"),
            longitude=Decimal(20 + city) + Decimal("0.05"),
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE properties_property")
    criteria = _criteria(params)
    page = selectors._page_rows_queryset(property_filtered(property_list(), criteria)[0:20])
    sql, sql_params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        # 300 rows fit in a few pages, where reading them all would win: what is asked here is
        # which index serves the query once the table is too big for that.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", sql_params)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    scans = {(n["Node Type"], n.get("Index Name")) for n in nodes(plan[0]["Plan"])}
    used = {node_type for node_type, name in scans if name == index}
    assert used if scan is None else scan in used, sorted(map(str, scans))
