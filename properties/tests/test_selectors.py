import json

import pytest
from django.db import connection

from properties.selectors import property_list, property_search
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def _estimated_rows(queryset) -> int:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return plan[0]["Plan"]["Plan Rows"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics exist on PostgreSQL only"
)
@pytest.mark.parametrize(
    ("field", "matching", "other", "text"),
    [
        ("location", "Nairobi, Kenya", "Lagos, Nigeria", "nairobi"),
    ],
)
def test_planner_knows_how_many_rows_a_substring_matches(field, matching, other, text):
    # Without the expression statistics of migration 0003 the planner guesses a handful of rows
    # for any `icontains`, whatever the data (see docs/benchmarks.md).
    PropertyFactory.create_batch(20, **{field: matching})
    PropertyFactory.create_batch(40, **{field: other})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE properties_property")

    queryset = property_list().filter(**{f"{field}__icontains": text})

    assert _estimated_rows(queryset) == 20


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics exist on PostgreSQL only"
)
def test_planner_knows_how_many_rows_a_search_word_matches():
    # `search` compares the folded search_text column itself, whose own statistics suffice.
    PropertyFactory.create_batch(20, title="Quiet Cabin")
    PropertyFactory.create_batch(40, title="Sunny Loft")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE properties_property")

    queryset = property_search(property_list(), text="CABIN")

    assert _estimated_rows(queryset) == 20


def test_search_matches_title_description_or_location():
    by_title = PropertyFactory.create(title="Sunny Loft", description="", location="Paris, France")
    by_description = PropertyFactory.create(
        title="Flat", description="A sunny flat", location="Lagos"
    )
    PropertyFactory.create(title="Cabin", description="Dark", location="Oslo")

    found = property_search(property_list(), text="SUNNY")

    assert sorted(found.values_list("pk", flat=True)) == sorted([by_title.pk, by_description.pk])
