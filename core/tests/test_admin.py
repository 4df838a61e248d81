from datetime import timedelta
from decimal import Decimal

import pytest

from bookings.models import Booking
from bookings.tests.factories import BookingFactory
from core.stays import utc_today
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/admin/accounts/user/?q=user_", 2),  # the booking's guest and host, not the admin
        ("/admin/properties/property/?country__exact=KE&availability__exact=1&listed=yes", 1),
        ("/admin/properties/property/?country__exact=NG", 0),
        ("/admin/properties/property/?listed=no", 0),
        ("/admin/bookings/booking/?status__exact=confirmed&q=Property", 1),
        ("/admin/bookings/booking/?status__exact=cancelled", 0),
    ],
)
def test_admin_lists_with_search_and_filters(admin_client, path, expected):
    BookingFactory.create()

    response = admin_client.get(path)

    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


def test_admin_booking_detail_is_read_only(admin_client):
    booking = BookingFactory.create()

    response = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/")

    assert response.status_code == 200
    assert b'name="total_price"' not in response.content


def test_admin_cancel_action_uses_the_booking_rules(admin_client):
    future = BookingFactory.create(
        check_in=utc_today() + timedelta(days=5),
        check_out=utc_today() + timedelta(days=7),
        property__cancellation_policy="strict",
    )
    started = BookingFactory.create(check_in=utc_today(), check_out=utc_today() + timedelta(days=2))

    response = admin_client.post(
        "/admin/bookings/booking/",
        {"action": "cancel_selected", "_selected_action": [future.pk, started.pk]},
        follow=True,
    )

    assert response.status_code == 200
    cancelled = Booking.objects.get(pk=future.pk)
    # For the host, never as the guest: a full refund (strict would keep it all), and the
    # history says staff did it.
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "host")
    assert (cancelled.refund_amount, cancelled.cancellation_fee) == (
        cancelled.total_price,
        Decimal(0),
    )
    last = cancelled.transitions.order_by("created_at", "id").values_list("reason", flat=True)
    assert list(last)[-1].startswith("Cancelled by staff (")
    assert Booking.objects.get(pk=started.pk).status == "confirmed"
    assert b"Cancelled 1 booking(s)." in response.content
    assert b"check-in day has come" in response.content


def test_admin_unlist_action_refuses_properties_with_upcoming_stays(admin_client):
    busy = BookingFactory.create(
        check_in=utc_today() + timedelta(days=5), check_out=utc_today() + timedelta(days=7)
    ).property
    idle = PropertyFactory.create()

    admin_client.post(
        "/admin/properties/property/",
        {"action": "unlist_selected", "_selected_action": [busy.pk, idle.pk]},
    )

    assert Property.all_objects.get(pk=busy.pk).deleted_at is None
    assert Property.all_objects.get(pk=idle.pk).deleted_at is not None


def test_admin_booking_page_is_titled_by_the_booking(admin_client):
    start = utc_today() + timedelta(days=30)
    booking = BookingFactory.create(
        property=PropertyFactory.create(title="Modern Studio"),
        check_in=start,
        check_out=start + timedelta(days=4),
    )

    response = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/")

    title = f"Booking {booking.pk}: Modern Studio, {start} → {start + timedelta(days=4)}"
    assert response.status_code == 200
    assert response.context["subtitle"] == title
    assert f"<title>{title} | " in response.content.decode()
