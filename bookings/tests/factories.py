from datetime import timedelta
from typing import cast

import factory

from accounts.tests.factories import UserFactory
from bookings.models import Booking
from calendars.models import Hold
from core.stays import utc_today
from properties.models import Property
from properties.tests.factories import PropertyFactory


class BookingFactory(factory.django.DjangoModelFactory[Booking]):
    class Meta:
        model = Booking

    property = factory.SubFactory(PropertyFactory)
    guest = factory.SubFactory(UserFactory)
    check_in = factory.LazyFunction(lambda: utc_today() + timedelta(days=30))
    check_out = factory.LazyAttribute(lambda o: o.check_in + timedelta(days=3))
    status = Booking.Status.CONFIRMED
    total_price = factory.LazyAttribute(
        lambda o: o.property.price_per_night * (o.check_out - o.check_in).days
    )

    @factory.lazy_attribute
    def hold(self) -> Hold | None:
        """A confirmed booking holds its nights, as booking_create's does (a cancelled one
        holds none)."""
        if self.status != Booking.Status.CONFIRMED:
            return None
        stay = {"start": self.check_in, "end": self.check_out}
        listing = cast(Property, self.property)  # resolved by now; a SubFactory to mypy
        return Hold.objects.create(property=listing, kind=Hold.Kind.BOOKING, **stay)
