"""A query compiled once answers exactly what its queryset answers, on both databases."""

from datetime import time
from decimal import Decimal

import pytest
from django.db.models import F
from django.db.models.functions import Upper

from accounts.tests.factories import UserFactory
from core.compiled_queries import CompiledQuery
from core.db.json_rows import JSONRows
from photos.tests.factories import PhotoFactory
from properties.models import Amenity, Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def _listing_rows(owner_id: int, title: str):
    return (
        Property.objects.filter(owner_id=owner_id, title=title)
        .order_by("pk")
        .values("id", "price_per_night", "latitude", "check_in_until", "created_at", "country")
        .annotate(owner_name=F("owner__username"))
    )


def test_rows_are_the_querysets_rows_for_every_parameter_value():
    query = CompiledQuery(_listing_rows, "owner_id", "title")
    hosts = UserFactory.create_batch(2)
    PropertyFactory.create(owner=hosts[0], title="Alpha", price_per_night=Decimal("75.50"))
    PropertyFactory.create(
        owner=hosts[0],
        title="Alps",
        latitude=Decimal("-1.283330"),
        longitude=Decimal("36.816670"),
        check_in_until=time(22, 30),
        country="KE",
    )
    PropertyFactory.create(owner=hosts[1], title="Alpha")

    for owner in hosts:
        for title in ("Alps", "Alpha", "Zzz"):
            expected = list(_listing_rows(owner.pk, title))
            assert query.rows(owner_id=owner.pk, title=title) == expected
    assert len(query.rows(owner_id=hosts[0].pk, title="Alpha")) == 1


def test_json_columns_come_back_decoded():
    photo = PhotoFactory.create(position=0)
    query = CompiledQuery(
        lambda property_id: Property.objects.filter(pk=property_id).values("photos__renditions"),
        "property_id",
    )

    assert query.rows(property_id=photo.property_id) == [{"photos__renditions": photo.renditions}]


def test_a_placeholder_must_be_exactly_one_bound_parameter():
    listing = PropertyFactory.create()
    unused = CompiledQuery(lambda pk: Property.objects.values("id"), "pk")
    twice = CompiledQuery(lambda pk: Property.objects.filter(pk=pk, owner_id=pk).values("id"), "pk")

    with pytest.raises(ValueError, match="one bound parameter"):
        unused.rows(pk=listing.pk)
    with pytest.raises(ValueError, match="one bound parameter"):
        twice.rows(pk=listing.pk)
    # A lookup that rewrites its value (LIKE 'value%') cannot take a swapped-in parameter.
    rewritten = CompiledQuery(
        lambda title: Property.objects.filter(title__startswith=title).values("id"),
        "title",
    )
    with pytest.raises(ValueError, match="one bound parameter"):
        rewritten.rows(title=listing.title)


def test_model_instances_are_the_orms_whatever_the_columns_order():
    from datetime import date

    from calendars.models import Hold
    from core.compiled_queries import QueryTemplate, model_columns, model_instances

    listing = PropertyFactory.create()
    Hold.objects.create(
        property=listing, kind="block", start=date(2030, 1, 2), end=date(2030, 1, 5)
    )
    some = ("end", "kind", "id", "start")  # not the model's field order
    for columns in (some, model_columns(Hold)):

        def build(shape, values, columns=columns):
            return Hold.objects.filter(property_id=values["property_id"]).values(*columns)

        template = QueryTemplate(build)
        rows = template.execute("holds", {"property_id": listing.pk})
        assert isinstance(rows, list)
        (loaded,) = model_instances(Hold, rows, columns)
        (expected,) = Hold.objects.filter(property_id=listing.pk).only(*columns)
        assert [getattr(loaded, name) for name in columns] == [
            getattr(expected, name) for name in columns
        ]
        assert loaded.get_deferred_fields() == expected.get_deferred_fields()
        assert not loaded._state.adding


def test_json_rows_take_plain_fields_only():
    with pytest.raises(ValueError, match="plain fields"):
        JSONRows(Amenity.objects.values("code", upper=Upper("code")))
    with pytest.raises(ValueError, match="plain fields"):
        JSONRows(Amenity.objects.all())
    with pytest.raises(ValueError, match="orders by names of its values"):
        JSONRows(Amenity.objects.values("code"), order_by=("category",))
