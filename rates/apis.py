from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.permissions import IsOwnerOrReadOnly
from core.api.schema import error_responses
from core.local_time import local_today
from properties.models import Property
from rates.models import RatePlan, Tax
from rates.pricing import rate_days_between, rate_plan_of, stay_price, stay_price_errors
from rates.selectors import calendar_nights, stay_errors
from rates.serializers import (
    CalendarQuerySerializer,
    NightCalendarOutputSerializer,
    QuoteOutputSerializer,
    QuoteQuerySerializer,
    RateDaysInputSerializer,
    RateDaysOutputSerializer,
    RatePlanInputSerializer,
    RatePlanOutputSerializer,
)
from rates.services import DAY_FIELDS, PLAN_FIELDS, RangeEdit, rate_days_edit, rate_plan_set


def _plan_output(listing: Property) -> dict:
    plan = rate_plan_of(listing)
    rules = {name: getattr(plan, name) for name in PLAN_FIELDS}
    return RatePlanOutputSerializer(
        {
            **rules,
            "weekend_days": plan.weekend_weekdays,
            "property_id": listing.pk,
            "currency": listing.currency,
            "taxes": Tax.objects.filter(property_id=listing.pk).order_by("id"),
        }
    ).data


class _ListingApi(APIView):
    """Anyone reads; only the listing's owner writes (403 for anyone else)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]

    def get_listing(self) -> Property:
        listing = get_object_or_404(Property.objects, pk=self.kwargs["property_id"])
        self.check_object_permissions(self.request, listing)
        return listing


class RatePlanApi(_ListingApi):
    @extend_schema(
        tags=["rates"],
        summary="A listing's rules, fees and taxes",
        description="Public. A listing without rules shows the defaults.",
        responses={200: RatePlanOutputSerializer},
        auth=[],
    )
    def get(self, request, property_id):
        return Response(_plan_output(self.get_listing()))

    def _write(self, request, *, partial: bool):
        listing = self.get_listing()
        serializer = RatePlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        taxes = data.pop("taxes", None)
        if partial:
            changes = data
        else:
            defaults = RatePlan()
            changes = {name: getattr(defaults, name) for name in PLAN_FIELDS}
            changes.update(data)
            taxes = taxes or []
        rate_plan_set(listing=listing, changes=changes, taxes=taxes)
        return Response(_plan_output(listing))

    @extend_schema(
        tags=["rates"],
        summary="Replace a listing's rules",
        description="Owner only. Fields left out take their defaults; `taxes` left out means "
        "none. `min_nights` above `max_nights` is a 400.",
        request=RatePlanInputSerializer,
        responses={200: RatePlanOutputSerializer, **error_responses(400, 403, 404)},
    )
    def put(self, request, property_id):
        return self._write(request, partial=False)

    @extend_schema(
        tags=["rates"],
        summary="Change some of a listing's rules",
        description="Owner only. Only the fields given change; `taxes`, if given, replaces "
        "the list.",
        request=RatePlanInputSerializer,
        responses={200: RatePlanOutputSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request, property_id):
        return self._write(request, partial=True)


class RateDaysApi(_ListingApi):
    @extend_schema(
        tags=["rates"],
        summary="Change prices and rules by date range",
        description="Owner only. Each edit sets the fields it names on the dates [start, end) "
        "(only on `weekdays` if given); null clears a field back to the listing's default. "
        "All edits apply or none: every invalid one is named by its index in a 400.",
        request=RateDaysInputSerializer,
        responses={200: RateDaysOutputSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request, property_id):
        listing = self.get_listing()
        serializer = RateDaysInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        edits = [
            RangeEdit(
                start=item["start"],
                end=item["end"],
                weekdays=frozenset(item["weekdays"]) if "weekdays" in item else None,
                changes={name: item[name] for name in DAY_FIELDS if name in item},
            )
            for item in serializer.validated_data["edits"]
        ]
        changed = rate_days_edit(listing=listing, edits=edits)
        return Response({"dates_changed": changed})


class PropertyNightsApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["rates"],
        summary="A listing's calendar, night by night",
        description="Public, for a date picker: each date of [`from`, `to`) with whether its "
        "night is available (never who holds it), its price, the shortest stay arriving that "
        "day, and whether a stay may begin (`closed_to_arrival` false) or end "
        "(`closed_to_departure` false) that day, all rules considered. `from` defaults to "
        "the listing's today, `to` to 90 days later (at most 366).",
        parameters=[
            OpenApiParameter("from", type=OpenApiTypes.DATE, description="First date."),
            OpenApiParameter("to", type=OpenApiTypes.DATE, description="Day after the last."),
        ],
        responses={200: NightCalendarOutputSerializer, **error_responses(400, 404)},
        auth=[],
    )
    def get(self, request, property_id):
        listing = get_object_or_404(Property.objects, pk=property_id)
        query = CalendarQuerySerializer(
            data=request.query_params, context={"today": local_today(listing.time_zone)}
        )
        query.is_valid(raise_exception=True)
        nights = calendar_nights(
            listing=listing,
            start=query.validated_data["from"],
            end=query.validated_data["to"],
            now=timezone.now(),
        )
        return Response(
            NightCalendarOutputSerializer(
                {"property_id": listing.pk, "currency": listing.currency, "nights": nights}
            ).data
        )


class QuoteApi(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["rates"],
        summary="Price a stay",
        description="Public: whether the stay can be booked now (and every reason it cannot), "
        "its nights with their prices, the line items and the total, as POST /api/bookings/ "
        "would charge it at this moment. A malformed stay (check-out not after check-in, over "
        "365 nights) is a 400.",
        parameters=[QuoteQuerySerializer],
        responses={200: QuoteOutputSerializer, **error_responses(400, 404)},
        auth=[],
    )
    def get(self, request, property_id):
        listing = get_object_or_404(Property.objects, pk=property_id)
        query = QuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stay = query.validated_data
        plan = rate_plan_of(listing)
        days = rate_days_between(listing=listing, start=stay["check_in"], end=stay["check_out"])
        errors = stay_errors(listing=listing, plan=plan, days=days, now=timezone.now(), **stay)
        price = stay_price(listing=listing, plan=plan, days=days, **stay)
        for field, messages in stay_price_errors(price).items():
            errors.setdefault(field, []).extend(messages)
        return Response(
            QuoteOutputSerializer(
                {
                    "property_id": listing.pk,
                    **stay,
                    "bookable": not errors,
                    "instant_book": listing.instant_book,
                    "cancellation_policy": listing.cancellation_policy,
                    "errors": errors,
                    "nights": price.nights,
                    "lines": price.lines,
                    "total": price.total,
                    "currency": price.currency,
                }
            ).data
        )
