from datetime import timedelta

import factory

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from core.stays import utc_today
from properties.tests.factories import PropertyFactory


class BookingFactory(factory.django.DjangoModelFactory[Booking]):
    class Meta:
        model = Booking

    property = factory.SubFactory(PropertyFactory)
    guest = factory.SubFactory(UserFactory)
    check_in = factory.LazyFunction(lambda: utc_today() + timedelta(days=30))
    check_out = factory.LazyAttribute(lambda o: o.check_in + timedelta(days=3))
    total_price = factory.LazyAttribute(
        lambda o: o.property.price_per_night * (o.check_out - o.check_in).days
    )
