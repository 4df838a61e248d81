from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from properties.models import Property


class PropertyFactory(factory.django.DjangoModelFactory[Property]):
    class Meta:
        model = Property

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Property {n}")
    description = "A nice apartment in the city center."
    price_per_night = Decimal("75.00")
    location = "Nairobi, Kenya"
    availability = True
