import factory

from properties.tests.factories import PropertyFactory
from rates.models import RateDay, RatePlan, Tax


class RatePlanFactory(factory.django.DjangoModelFactory[RatePlan]):
    class Meta:
        model = RatePlan

    property = factory.SubFactory(PropertyFactory)


class RateDayFactory(factory.django.DjangoModelFactory[RateDay]):
    class Meta:
        model = RateDay

    property = factory.SubFactory(PropertyFactory)


class TaxFactory(factory.django.DjangoModelFactory[Tax]):
    class Meta:
        model = Tax

    property = factory.SubFactory(PropertyFactory)
    name = "City tax"
    kind = Tax.Kind.PERCENT
    value = 10
