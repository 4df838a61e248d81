from datetime import datetime, timedelta
from typing import cast

import factory
from django.utils import timezone

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
    # As booking_create snapshots them.
    cancellation_policy = factory.LazyAttribute(lambda o: o.property.cancellation_policy)
    policy_check_in = factory.LazyAttribute(lambda o: o.check_in)
    total_price = factory.LazyAttribute(
        lambda o: o.property.price_per_night * (o.check_out - o.check_in).days
    )
    # Each state's required fields (the model's check constraints), so `status=...` suffices.
    expires_at = factory.LazyAttribute(
        lambda o: (
            timezone.now() + timedelta(hours=24) if o.status in ("pending", "expired") else None
        )
    )
    cancelled_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == "cancelled" else None
    )
    cancelled_by = factory.LazyAttribute(lambda o: "guest" if o.status == "cancelled" else "")
    refund_amount = factory.LazyAttribute(
        lambda o: o.total_price if o.status == "cancelled" else None
    )
    cancellation_fee = factory.LazyAttribute(lambda o: 0 if o.status == "cancelled" else None)

    @factory.lazy_attribute
    def hold(self) -> Hold | None:
        """Confirmed, completed and pending bookings hold their nights, as the services' do
        (a request until its deadline); declined, expired and cancelled ones hold none."""
        if self.status not in ("confirmed", "completed", "pending"):
            return None
        stay = {"start": self.check_in, "end": self.check_out}
        listing = cast(Property, self.property)  # resolved by now; a SubFactory to mypy
        expires_at = cast(datetime, self.expires_at) if self.status == "pending" else None
        return Hold.objects.create(
            property=listing, kind=Hold.Kind.BOOKING, expires_at=expires_at, **stay
        )
