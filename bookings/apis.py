import re

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from bookings.filters import BookingFilter
from bookings.models import Booking
from bookings.selectors import booking_list_for_guest, booking_list_for_property
from bookings.serializers import (
    BookingInputSerializer,
    BookingOutputSerializer,
    CalendarOutputSerializer,
    CalendarQuerySerializer,
    PropertyBookingOutputSerializer,
)
from bookings.services import booking_cancel, booking_create, booking_create_idempotent
from calendars.selectors import holds_in_window
from core.api.schema import (
    EXAMPLE_CHECK_IN,
    EXAMPLE_CHECK_OUT,
    EXAMPLE_CREATED_AT,
    error_responses,
)
from core.api.urls import ID_PATTERN
from core.local_time import local_today
from properties.models import Property

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
# Visible ASCII, as HTTP header values and the IETF Idempotency-Key draft expect; a UUID fits.
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _idempotency_key(request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        raise serializers.ValidationError(
            {IDEMPOTENCY_KEY_HEADER: ["Use 1 to 255 visible ASCII characters, e.g. a UUID."]}
        )
    return key


@extend_schema_view(
    list=extend_schema(
        summary="List your bookings",
        description="The signed-in guest's bookings, newest first, confirmed and cancelled. "
        "`status` keeps one kind; `upcoming=true` keeps confirmed stays that have not ended.",
    ),
    retrieve=extend_schema(
        summary="Read one of your bookings",
        description="Anyone else's booking is a 404, never a 403: its existence is not revealed.",
    ),
)
class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own bookings. Anyone else's booking is a 404, never a 403: its existence
    is not revealed."""

    queryset = Booking.objects.none()  # for the schema generator; requests use get_queryset
    serializer_class = BookingOutputSerializer
    filterset_class = BookingFilter
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return self.queryset
        guest = self.request.user
        assert isinstance(guest, User)  # IsAuthenticated has let only a signed-in user through
        return booking_list_for_guest(guest=guest)

    @extend_schema(
        summary="Book a stay",
        description="Confirms a stay of the signed-in guest at a property, at today's price per "
        "night; the stay is the nights from `check_in` up to, not including, `check_out`. "
        "`check_in` may not be before today in the listing's time zone nor more than 730 "
        "days after it, and `check_out` must be after it, at most 365 nights later. `guests` "
        "(default 1) may not exceed the listing's `max_guests` (a 400 naming it). The "
        "property must exist and not be your own (else a 400 naming `property_id`). Nights "
        "that overlap a confirmed booking, or a property its host has made unavailable, are a "
        "409. The schema cannot state these "
        "rules: they depend on today and on the data.",
        request=BookingInputSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                location=OpenApiParameter.HEADER,
                required=False,
                # The pattern the view enforces; documented so generated keys are realistic.
                pattern=r"^[\x21-\x7e]{1,255}$",
                description="Optional, e.g. a UUID. A retry with the same key and body within "
                "24 hours returns the first booking (201, same body, `Idempotent-Replayed: "
                "true`) instead of booking again; the same key with another body is a 422.",
            )
        ],
        responses={201: BookingOutputSerializer, **error_responses(409, 422)},
        examples=[
            OpenApiExample(
                "A four-night stay",
                value={
                    "property_id": 10,
                    "check_in": EXAMPLE_CHECK_IN,
                    "check_out": EXAMPLE_CHECK_OUT,
                    "guests": 2,
                },
                request_only=True,
            ),
            OpenApiExample(
                "A four-night stay",
                value={
                    "id": 1,
                    "property": "Modern Studio",
                    "property_id": 10,
                    "check_in": EXAMPLE_CHECK_IN,
                    "check_out": EXAMPLE_CHECK_OUT,
                    "nights": 4,
                    "guests": 2,
                    "total_price": 300,
                    "currency": "USD",
                    "status": "confirmed",
                    "created_at": EXAMPLE_CREATED_AT,
                },
                response_only=True,
            ),
        ],
    )
    def create(self, request):
        key = _idempotency_key(request)
        serializer = BookingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if key is None:
            booking, replayed = (
                booking_create(guest=request.user, **serializer.validated_data),
                False,
            )
        else:
            booking, replayed = booking_create_idempotent(
                guest=request.user, idempotency_key=key, **serializer.validated_data
            )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(
            BookingOutputSerializer(booking).data, status=status.HTTP_201_CREATED, headers=headers
        )

    @extend_schema(
        summary="Cancel a booking",
        description="Cancels one of the signed-in guest's bookings and frees its nights. A "
        "booking already cancelled, or whose check-in day has come in the listing's time "
        "zone, is a 409; anyone else's is a 404.",
        responses={204: None, **error_responses(409)},
    )
    def destroy(self, request, pk):
        booking_cancel(guest=request.user, booking_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PropertyCalendarApi(APIView):
    """Which nights of a property are taken, for drawing a calendar. No guest data."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["properties"],
        summary="A property's taken nights",
        description="Public, for drawing a calendar: the ranges of a property's nights that "
        "are taken (stays, pending requests, host blocks, imported events alike) and touch the "
        "window [`from`, `to`), with no guest data and no word of who holds them. `from` may "
        "not be more than 730 days ahead, `to` must be after `from` and at most 366 days "
        "later; those rules depend on today, so the schema cannot state them.",
        parameters=[
            OpenApiParameter(
                "from",
                type=OpenApiTypes.DATE,
                description="First day; default today in the listing's time zone.",
            ),
            OpenApiParameter(
                "to", type=OpenApiTypes.DATE, description="Day after the last; default from + 365."
            ),
        ],
        responses={200: CalendarOutputSerializer},
        auth=[],
    )
    def get(self, request, property_id):
        listing = get_object_or_404(Property.objects.only("pk", "time_zone"), pk=property_id)
        query = CalendarQuerySerializer(
            data=request.query_params, context={"today": local_today(listing.time_zone)}
        )
        query.is_valid(raise_exception=True)
        stays = [
            {"check_in": hold.start, "check_out": hold.end}
            for hold in holds_in_window(
                property_id=listing.pk,
                start=query.validated_data["from"],
                end=query.validated_data["to"],
                now=timezone.now(),
            )
        ]
        return Response(CalendarOutputSerializer({"property_id": listing.pk, "booked": stays}).data)


@extend_schema_view(
    get=extend_schema(
        tags=["bookings"],
        summary="List a property's bookings",
        description="For the property's owner only (anyone else gets a 403): its confirmed "
        "and cancelled bookings with the guests' usernames, newest first.",
        responses={200: PropertyBookingOutputSerializer(many=True), **error_responses(403)},
    )
)
class PropertyBookingListApi(generics.ListAPIView):
    """Confirmed and cancelled bookings of one property, for its owner only."""

    queryset = Booking.objects.none()  # for the schema generator; requests use get_queryset
    serializer_class = PropertyBookingOutputSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request data
            return self.queryset
        listing = get_object_or_404(
            Property.objects.only("pk", "owner_id"), pk=self.kwargs["property_id"]
        )
        if listing.owner_id != self.request.user.pk:
            self.permission_denied(
                self.request, message="Only the property's owner can see its bookings."
            )
        return booking_list_for_property(property_id=listing.pk)
