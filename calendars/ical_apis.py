from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from calendars.feeds import (
    ical_export_body,
    ical_export_listing,
    ical_export_rotate,
    ical_feed_create,
    ical_feed_delete,
    ical_feed_get,
    ical_feed_list,
    ical_feed_sync,
    ical_feed_with_conflicts,
)
from calendars.ical_serializers import (
    IcalExportOutputSerializer,
    IcalFeedInputSerializer,
    IcalFeedOutputSerializer,
)
from core.api.schema import ApiAutoSchema, error_responses
from core.exceptions import PermissionDenied
from properties.models import Property

TAG = ["calendar"]


class ICalendarRenderer(renderers.BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CalendarOnlyNegotiation(DefaultContentNegotiation):
    """The feed is iCalendar whatever the client asks (calendar apps send all sorts of Accept
    headers, and `?format=` must not pick a renderer that cannot render it); errors turn into
    JSON in IcalExportFeedApi.finalize_response."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CalendarFeedSchema(ApiAutoSchema):
    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if str(status_code) != "200":
            media_types = ["application/json"]  # the error shape, as everywhere
        return super()._get_response_for_code(serializer, status_code, media_types, direction)


class IcalExportFeedApi(APIView):
    """The listing's calendar at its secret address: no account, the token is the key."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [ICalendarRenderer]
    content_negotiation_class = CalendarOnlyNegotiation
    schema = CalendarFeedSchema()

    @extend_schema(
        summary="A listing's calendar (iCal)",
        description="The secret export address a host gets from `POST /api/properties/{id}/"
        "ical/rotate/`: an iCalendar (RFC 5545) file of the listing's booked and blocked "
        "nights, from a year ago to the 730-day horizon, as all-day events (DTSTART;"
        "VALUE=DATE, DTEND the check-out day, exclusive) with stable UIDs and the summary "
        "`Reserved` or `Blocked`, never anything about a guest. Nights imported from other "
        "calendars are left out (no echo between platforms). Any other token, or a rotated "
        "one, is a 404. `Cache-Control: private, no-cache` with an ETag: a calendar may keep "
        "a copy but revalidates it (If-None-Match gives a 304).",
        auth=[],
        tags=TAG,
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.STR, description="The iCalendar file."
            ),
            **error_responses(404),
        },
    )
    def get(self, request, token):
        listing = ical_export_listing(token=token)
        response = Response(ical_export_body(listing=listing, now=timezone.now()))
        # A subscriber re-reads the calendar often and must see a rotation or a new booking at
        # once: stored but revalidated every time (ConditionalGetMiddleware's ETag), and never
        # by a shared cache, which would keep serving a rotated address.
        patch_cache_control(response, private=True, no_cache=True)
        response["X-Robots-Tag"] = "noindex"
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(response, Response):
            # Errors are JSON like everywhere else, whatever the client accepted.
            response.accepted_renderer = renderers.JSONRenderer()
            response.accepted_media_type = "application/json"
        return response


class OwnerIcalApi(APIView):
    """Only the listing's owner sees and changes its calendar links: imported URLs often carry
    another platform's secret (403 for anyone else, 404 for no such listing)."""

    def get_listing(self) -> Property:
        listing = get_object_or_404(
            Property.objects.only("pk", "owner_id", "time_zone"), pk=self.kwargs["property_id"]
        )
        if listing.owner_id != self.request.user.pk:
            raise PermissionDenied("Only the owner can manage this property's calendars.")
        return listing


class IcalExportRotateApi(OwnerIcalApi):
    @extend_schema(
        summary="Issue the listing's secret calendar address",
        description="Only the owner. Issues a new secret export address (the first one, or a "
        "replacement: the previous address stops working at once, so paste the new one "
        "wherever the old one was). The token is shown in this answer only; the server keeps "
        "just its SHA-256.",
        request=None,
        tags=TAG,
        responses={201: IcalExportOutputSerializer, **error_responses(403)},
    )
    def post(self, request, property_id):
        export, token = ical_export_rotate(listing=self.get_listing())
        url = request.build_absolute_uri(f"/api/ical/{token}.ics")
        data = {"url": url, "created_at": export.created_at}
        return Response(IcalExportOutputSerializer(data).data, status=status.HTTP_201_CREATED)


class IcalFeedListApi(OwnerIcalApi):
    @extend_schema(
        summary="List the calendars a listing imports",
        description="Only the owner. Each feed with the outcome of its last sync: when, the "
        "error if it failed (the nights it held before stay held), how many events hold "
        "nights, the conflicts (events over nights already booked or blocked here, which are "
        "not imported and never change the booking) and the events skipped.",
        tags=TAG,
        responses={200: IcalFeedOutputSerializer(many=True), **error_responses(403)},
    )
    def get(self, request, property_id):
        listing = self.get_listing()
        feeds = ical_feed_list(property_id=listing.pk)
        return Response(IcalFeedOutputSerializer(feeds, many=True).data)

    @extend_schema(
        summary="Import a calendar",
        description="Only the owner. Adds an external iCalendar URL (another platform's export "
        "link): http or https, no credentials, not a private, loopback or link-local address; "
        "at most 10 per listing, each URL once. Its events block the listing's nights from the "
        "next sync on (`POST .../sync/`, or the scheduled `sync_ical_feeds`).",
        request=IcalFeedInputSerializer,
        tags=TAG,
        responses={201: IcalFeedOutputSerializer, **error_responses(403)},
    )
    def post(self, request, property_id):
        listing = self.get_listing()
        serializer = IcalFeedInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        feed = ical_feed_create(listing=listing, **serializer.validated_data)
        return Response(
            IcalFeedOutputSerializer(ical_feed_with_conflicts(feed=feed)).data,
            status=status.HTTP_201_CREATED,
        )


class IcalFeedDetailApi(OwnerIcalApi):
    http_method_names = ["delete", "options"]

    @extend_schema(
        summary="Stop importing a calendar",
        description="Only the owner. The nights its events held are free again.",
        tags=TAG,
        responses={204: None, **error_responses(403)},
    )
    def delete(self, request, property_id, feed_id):
        listing = self.get_listing()
        ical_feed_delete(feed=ical_feed_get(property_id=listing.pk, feed_id=feed_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class IcalSyncThrottle(UserRateThrottle):
    """Syncs per user (ICAL_SYNC_THROTTLE_RATE): each one fetches a URL on the host's behalf."""

    scope = "ical_sync"


class IcalFeedSyncApi(OwnerIcalApi):
    throttle_classes = [*APIView.throttle_classes, IcalSyncThrottle]

    @extend_schema(
        summary="Sync an imported calendar now",
        description="Only the owner. Fetches the feed (10 s, 1 MiB at most) and brings the "
        "listing's nights in line with it; the answer is the feed's new status. A feed that "
        "cannot be fetched or read is still a 200: `last_error` says why, and the nights it "
        "held stay held.",
        request=None,
        tags=TAG,
        responses={200: IcalFeedOutputSerializer, **error_responses(403)},
    )
    def post(self, request, property_id, feed_id):
        listing = self.get_listing()
        feed = ical_feed_get(property_id=listing.pk, feed_id=feed_id)
        outcome = ical_feed_sync(feed_id=feed.pk)
        return Response(IcalFeedOutputSerializer(ical_feed_with_conflicts(feed=outcome.feed)).data)
