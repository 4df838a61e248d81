from django.urls import re_path
from rest_framework.routers import SimpleRouter

from bookings import apis
from core.api.urls import ID_PATTERN

router = SimpleRouter()
router.register("bookings", apis.BookingViewSet, basename="booking")

urlpatterns = [
    *router.urls,
    re_path(
        rf"^properties/(?P<property_id>{ID_PATTERN})/availability/$",
        apis.PropertyCalendarApi.as_view(),
        name="property-availability",
    ),
    re_path(r"^host/bookings/$", apis.HostBookingListApi.as_view(), name="host-bookings"),
    re_path(
        rf"^properties/(?P<property_id>{ID_PATTERN})/bookings/$",
        apis.PropertyBookingListApi.as_view(),
        name="property-bookings",
    ),
]
