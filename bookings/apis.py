import functools
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
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from bookings.filters import BookingFilter, HostBookingFilter
from bookings.models import Booking
from bookings.selectors import (
    booking_created_for_output,
    booking_get_for_output,
    booking_list_for_guest,
    booking_list_for_host,
    booking_list_for_property,
)
from bookings.serializers import (
    STATUS_TEXT,
    BookingAcceptInputSerializer,
    BookingChangeInputSerializer,
    BookingDeclineInputSerializer,
    BookingHostCancelInputSerializer,
    BookingInputSerializer,
    BookingOutputSerializer,
    CalendarOutputSerializer,
    CalendarQuerySerializer,
    CancellationPreviewOutputSerializer,
    PropertyBookingOutputSerializer,
)
from bookings.services import (
    booking_accept,
    booking_cancel,
    booking_cancellation_preview,
    booking_change,
    booking_create,
    booking_create_idempotent,
    booking_decline,
    booking_host_cancel,
)
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
        description="The signed-in guest's bookings and requests, newest first, each with its "
        "history. `status` keeps one state (as read now); `upcoming=true` keeps confirmed stays "
        "and live requests that have not ended. " + STATUS_TEXT,
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
        description="Books a stay of the signed-in guest at a property, at today's price per "
        "night. A listing with `instant_book` confirms it at once (`status: confirmed`); "
        "otherwise it is a request (`status: pending`) that holds its nights until the host "
        "accepts or declines it, or until `expires_at` (BOOKING_REQUEST_HOURS, default 24, "
        "and never past the start of the check-in day), after which it is expired and holds "
        "nothing. The stay is the nights from `check_in` up to, not including, `check_out`. "
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
                    "expires_at": None,
                    "cancelled_at": None,
                    "cancelled_by": "",
                    "refund_amount": None,
                    "cancellation_fee": None,
                    "created_at": EXAMPLE_CREATED_AT,
                    "history": [
                        {
                            "from_status": "",
                            "to_status": "confirmed",
                            "actor_role": "guest",
                            "by": "alice",
                            "reason": "",
                            "created_at": EXAMPLE_CREATED_AT,
                        }
                    ],
                    "revisions": [],
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
        if replayed:
            # The first request's booking as it is now (it may have changed since).
            output = _output(booking.pk, BookingOutputSerializer)
        else:
            output = _represented(
                booking_created_for_output(booking=booking), BookingOutputSerializer
            )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(output, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        summary="Cancel a booking or withdraw a request",
        description="Cancels one of the signed-in guest's bookings and frees its nights. The "
        "refund follows the listing's `cancellation_policy` at this moment in the listing's "
        "time zone (a request not yet accepted is refunded in full); the booking, with "
        "`refund_amount` and `cancellation_fee`, is returned. A retry of a cancellation the "
        "guest already made answers the cancelled booking (200). A booking declined, expired, "
        "completed or cancelled by the host, or whose check-in day has come in the listing's "
        "time zone, is a 409; anyone else's is a 404.",
        request=None,
        responses={200: BookingOutputSerializer, **error_responses(409)},
    )
    def destroy(self, request, pk):
        booking = booking_cancel(guest=request.user, booking_id=int(pk))
        return Response(_output(booking.pk, BookingOutputSerializer))

    @extend_schema(
        summary="Change a booking's dates or guests",
        description="The guest of a confirmed stay that has not started changes its dates "
        "and/or guest count. The new stay is checked like a new booking, its own nights "
        "excluded, and re-priced with the listing's current rules (the booking's "
        "`total_price` and `price_lines` become the new bill); the change is recorded in "
        "`revisions`. All or nothing: nights taken by another booking are a 409 "
        "`booking_conflict`; a booking that is not confirmed, has started, or whose new stay "
        "the listing's rules refuse is a 409 `booking_not_changeable` naming why.",
        request=BookingChangeInputSerializer,
        responses={200: BookingOutputSerializer, **error_responses(409)},
    )
    def partial_update(self, request, pk):
        serializer = BookingChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = booking_change(
            guest=request.user, booking_id=int(pk), **serializer.validated_data
        )
        return Response(_output(booking.pk, BookingOutputSerializer))

    @extend_schema(
        summary="What cancelling now would refund",
        description="A preview of the guest's cancellation at this moment: the listing's "
        "policy and its terms, the refund and fee, and when the refund next shrinks. Changes "
        "nothing. Anyone else's booking is a 404.",
        responses={200: CancellationPreviewOutputSerializer},
    )
    @action(detail=True, methods=["get"], url_path="cancellation")
    def cancellation(self, request, pk):
        preview = booking_cancellation_preview(booking=self.get_object())
        return Response(CancellationPreviewOutputSerializer(preview).data)

    @extend_schema(
        summary="Accept a booking request (host)",
        description="The listing's host accepts a pending request: it becomes `confirmed`. A "
        "retry answers the confirmed booking (200). A request past its `expires_at` is a 409 "
        "`booking_request_expired`; any other state a 409 `booking_transition_refused`. Not "
        "the caller's listing: 404.",
        request=BookingAcceptInputSerializer,
        responses={200: PropertyBookingOutputSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk):
        body = BookingAcceptInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = booking_accept(
            host=request.user, booking_id=int(pk), message=body.validated_data["message"]
        )
        return Response(_output(booking.pk, PropertyBookingOutputSerializer))

    @extend_schema(
        summary="Decline a booking request (host)",
        description="The listing's host declines a pending request (optional `message` for "
        "the guest, kept in the history): it becomes `declined` and its nights are free. A "
        "retry answers the declined booking (200); other states are a 409.",
        request=BookingDeclineInputSerializer,
        responses={200: PropertyBookingOutputSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk):
        body = BookingDeclineInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = booking_decline(
            host=request.user, booking_id=int(pk), message=body.validated_data["message"]
        )
        return Response(_output(booking.pk, PropertyBookingOutputSerializer))

    @extend_schema(
        summary="Cancel a confirmed stay (host)",
        description="The listing's host cancels a confirmed stay before its check-in day "
        "(local): `reason` is required and kept in the history; the guest is refunded in full "
        "(`refund_amount` = `total_price`). A retry answers the cancelled booking (200); a "
        "request (decline it instead), or a stay cancelled, completed or started, is a 409.",
        request=BookingHostCancelInputSerializer,
        responses={200: PropertyBookingOutputSerializer, **error_responses(409)},
    )
    @action(detail=True, methods=["post"], url_path="host-cancel")
    def host_cancel(self, request, pk):
        body = BookingHostCancelInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        booking = booking_host_cancel(
            host=request.user, booking_id=int(pk), reason=body.validated_data["reason"]
        )
        return Response(_output(booking.pk, PropertyBookingOutputSerializer))


def _output(booking_id: int, serializer_class) -> dict:
    return _represented(booking_get_for_output(booking_id=booking_id), serializer_class)


@functools.cache
def _serializer(serializer_class) -> serializers.Serializer:
    return serializer_class()


def _represented(booking, serializer_class) -> dict:
    # One serializer per class, built once: DRF builds a ModelSerializer's fields anew for each
    # instance (~0.8 ms per booking answer). The output is the same: no field of these reads the
    # request or the context, and representing changes nothing on the serializer.
    return _serializer(serializer_class).to_representation(booking)


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


@extend_schema_view(
    get=extend_schema(
        tags=["bookings"],
        summary="Bookings and requests at your listings (host)",
        description="Every booking and request across the signed-in host's listings, newest "
        "first, paginated, with the guest's username and guest count (never their email) and "
        "each booking's history. Filters: `status` (as read now), `listing`, `upcoming`, and "
        "`start`/`end` (stays touching [start, end)). Act on them with "
        "POST /api/bookings/{id}/accept/, /decline/ and /host-cancel/. " + STATUS_TEXT,
        responses={200: PropertyBookingOutputSerializer(many=True)},
    )
)
class HostBookingListApi(generics.ListAPIView):
    """Bookings across the caller's listings, for their host."""

    queryset = Booking.objects.none()  # for the schema generator; requests use get_queryset
    serializer_class = PropertyBookingOutputSerializer
    filterset_class = HostBookingFilter
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        host = self.request.user
        assert isinstance(host, User)
        return booking_list_for_host(host=host)
