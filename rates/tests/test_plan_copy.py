"""The listing's row carries its plan's stay rules (Property.plan_*), written by the database's
triggers whatever writes the plan, and never by a listing's own save."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, models

from conftest import migrate_to
from core.stays import MAX_DAYS_AHEAD, MAX_NIGHTS
from properties.models import PLAN_COPY_FIELDS, Property
from properties.services import property_update
from properties.tests.factories import PropertyFactory
from rates.models import RatePlan
from rates.services import rate_plan_set
from rates.tests.factories import RatePlanFactory

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "plan_min_nights": 1,
    "plan_max_nights": MAX_NIGHTS,
    "plan_booking_window_days": MAX_DAYS_AHEAD,
    "plan_advance_notice_days": 0,
    "plan_preparation_nights": 0,
}
RULES = {
    "min_nights": 3,
    "max_nights": 20,
    "booking_window_days": 90,
    "advance_notice_days": 2,
    "preparation_nights": 1,
}


def copies(listing: Property) -> dict:
    return Property.all_objects.filter(pk=listing.pk).values(*PLAN_COPY_FIELDS).get()


def copied(rules: dict) -> dict:
    return {f"plan_{name}": value for name, value in rules.items()}


def test_the_defaults_are_the_plans_defaults():
    assert copied({name: getattr(RatePlan(), name) for name in RULES}) == DEFAULTS
    assert copies(PropertyFactory.create()) == DEFAULTS


def test_every_way_of_writing_a_plan_is_copied_to_its_listing():
    listing, other = PropertyFactory.create_batch(2)

    RatePlan.objects.create(property=listing, **RULES)
    assert copies(listing) == copied(RULES)
    assert copies(other) == DEFAULTS

    RatePlan.objects.filter(property=listing).update(min_nights=5, preparation_nights=0)
    assert copies(listing) == copied({**RULES, "min_nights": 5, "preparation_nights": 0})

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rates_rateplan SET booking_window_days = 30 WHERE property_id = %s",
            [listing.pk],
        )
    assert copies(listing)["plan_booking_window_days"] == 30

    RatePlan.objects.bulk_create([RatePlan(property=other, max_nights=7)])
    assert copies(other) == {**DEFAULTS, "plan_max_nights": 7}

    RatePlan.objects.filter(property=listing).delete()
    assert copies(listing) == DEFAULTS
    assert copies(other) == {**DEFAULTS, "plan_max_nights": 7}


def test_the_rates_service_is_copied():
    listing = PropertyFactory.create()
    rate_plan_set(listing=listing, changes={"advance_notice_days": 3, "weekend_days": 1})
    assert copies(listing) == {**DEFAULTS, "plan_advance_notice_days": 3}


def test_a_listing_saved_from_a_stale_instance_keeps_its_plans_rules():
    listing = PropertyFactory.create()
    stale = Property.objects.get(pk=listing.pk)
    RatePlanFactory.create(property=listing, **RULES)

    stale.title = "Renamed"
    stale.save()
    property_update(listing=stale, description="New words")

    assert copies(listing) == copied(RULES)
    assert Property.objects.values_list("title", "description").get(pk=listing.pk) == (
        "Renamed",
        "New words",
    )


def test_the_copies_are_not_fields_a_form_or_the_api_writes():
    assert all(not Property._meta.get_field(name).editable for name in PLAN_COPY_FIELDS)


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_the_plans_that_exist():
    old = migrate_to([("rates", "0001_initial"), ("properties", "0010_plan_rules_copy")])
    User = old.get_model("accounts", "User")
    OldProperty = old.get_model("properties", "Property")
    OldPlan = old.get_model("rates", "RatePlan")
    host = User.objects.create(username="host", email="host@example.com")
    ruled, plain = (
        OldProperty.objects.create(
            owner=host, title=title, price_per_night=Decimal("20"), location="Somewhere"
        )
        for title in ("Ruled", "Plain")
    )
    OldPlan.objects.create(property=ruled, updated_at=date(2026, 1, 1), **RULES)

    migrate_to()

    assert copies(ruled) == copied(RULES)
    assert copies(plain) == DEFAULTS
    RatePlan.objects.filter(property_id=ruled.pk).update(min_nights=4)
    assert copies(ruled)["plan_min_nights"] == 4


@pytest.mark.django_db(transaction=True)
def test_a_migration_that_rebuilds_either_table_keeps_the_copies_in_step():
    # Most column changes rebuild the table on SQLite (core/db/backends/sqlite3); on PostgreSQL
    # they alter it in place. Either way the triggers must still be there afterwards.
    wider: list[tuple[type[models.Model], models.Field, models.Field]] = [
        (Property, Property._meta.get_field("title"), models.CharField(max_length=101)),
        (
            RatePlan,
            RatePlan._meta.get_field("cleaning_fee"),
            models.DecimalField(max_digits=10, decimal_places=2, default=0),
        ),
    ]
    for model, old, new in wider:
        new.set_attributes_from_name(old.name)
        new.model = model
        with connection.schema_editor() as editor:
            editor.alter_field(model, old, new)
        with connection.schema_editor() as editor:
            editor.alter_field(model, new, old)

    listing = PropertyFactory.create()
    RatePlan.objects.create(property=listing, **RULES)
    assert copies(listing) == copied(RULES)
    RatePlan.objects.filter(property=listing).delete()
    assert copies(listing) == DEFAULTS
