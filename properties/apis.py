from urllib.parse import urlencode

from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.permissions import IsOwnerOrReadOnly
from core.api.schema import error_responses
from core.api.urls import ID_PATTERN
from core.cache_generations import AVAILABILITY, LISTINGS, response_cache_get_or_compute
from core.stays import utc_today
from properties.filters import PropertyFilter
from properties.selectors import (
    property_detail_row,
    property_list,
    property_listed_count,
    property_page_rows,
)
from properties.serializers import (
    PropertyListItemSerializer,
    PropertySerializer,
    property_row_representation,
)
from properties.services import property_create, property_delete, property_update

# Query parameters that never narrow the result: the unfiltered list's total holds for them.
PAGING_PARAMS = {"page", "page_size", api_settings.URL_FORMAT_OVERRIDE}
LIST_PARAMS = {*PropertyFilter.base_filters, *PAGING_PARAMS}
DETAIL_PARAMS = {api_settings.URL_FORMAT_OVERRIDE}

MODERN_STUDIO = {
    "title": "Modern Studio",
    "description": "A nice apartment in the city center.",
    "price_per_night": 75,
    "location": "Nairobi, Kenya",
    "availability": True,
}


@extend_schema_view(
    list=extend_schema(auth=[], responses=PropertyListItemSerializer(many=True)),
    retrieve=extend_schema(
        auth=[],
        parameters=[
            OpenApiParameter(
                api_settings.URL_FORMAT_OVERRIDE,
                enum=["json"],
                description="The only query parameter a detail takes; any other is a 400.",
            )
        ],
    ),
    create=extend_schema(
        examples=[
            OpenApiExample("Modern Studio", value=MODERN_STUDIO, request_only=True),
            OpenApiExample(
                "Modern Studio",
                value={
                    "id": 10,
                    **MODERN_STUDIO,
                    "owner": "john_doe",
                    "created_at": "2025-05-20T09:30:00Z",
                    "updated_at": "2025-05-20T09:30:00Z",
                },
                response_only=True,
            ),
        ]
    ),
    update=extend_schema(responses={200: PropertySerializer, **error_responses(403)}),
    partial_update=extend_schema(responses={200: PropertySerializer, **error_responses(403)}),
    destroy=extend_schema(responses={204: None, **error_responses(403, 409)}),
)
class PropertyViewSet(viewsets.ModelViewSet):
    """Anyone browses and searches; a signed-in user lists places; only the owner changes or
    removes them."""

    serializer_class = PropertySerializer
    filterset_class = PropertyFilter
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return property_list()

    def filter_queryset(self, queryset):
        # The filters are the list's. DRF would apply them to one property's URL too (a
        # detail "not found" for a booked stay); the schema never offered that, so it is not
        # done. django-filter builds and validates a form on every request (~1 ms), even with
        # no filter parameter, when it would return the queryset unchanged.
        if self.action != "list" or set(self.request.query_params) <= PAGING_PARAMS:
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(LIST_PARAMS)
        return Response(self._cached(self._list_data))

    def _list_data(self) -> dict:
        queryset = self.filter_queryset(self.get_queryset())
        # Paging and ordering do not change the total: the unfiltered list uses the cached one.
        if set(self.request.query_params) <= {*PAGING_PARAMS, "ordering"}:
            self.paginator.known_count = property_listed_count()
        # One query for the page: a deferred join returning plain rows (property_page_rows).
        self.paginator.page_loader = property_page_rows
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response([property_row_representation(row) for row in rows]).data

    def retrieve(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(DETAIL_PARAMS)
        return Response(self._cached(self._detail_data))

    def _detail_data(self) -> dict:
        # The same plain row as the list, with every photo. No object permission to check:
        # IsOwnerOrReadOnly lets every safe method through.
        row = property_detail_row(property_id=self.kwargs["pk"])
        if row is None:
            raise Http404
        return property_row_representation(row)

    def _refuse_unknown_parameters(self, known: set[str]) -> None:
        # A parameter nothing reads would silently do nothing, and each new spelling of it
        # would be a new cache entry (and, on the unfiltered list, an exact COUNT).
        unknown = sorted(set(self.request.query_params) - known)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})

    def _cached(self, compute) -> dict:
        # Everyone sees the same public data; authentication, permissions and throttling have
        # already run. Keyed by scheme, host and path (the envelope's links carry them), the
        # parameters in one canonical order and encoding, and UTC today (which check-in dates
        # are valid changes at midnight).
        query = self.request.query_params
        generations = (LISTINGS,)
        if {"check_in", "check_out"} & set(query):
            generations += (AVAILABILITY,)
        canonical = urlencode(sorted(query.lists()), doseq=True)
        origin = self.request.build_absolute_uri(self.request.path)
        return response_cache_get_or_compute(
            generations=generations,
            key=f"{utc_today().isoformat()} {origin}?{canonical}",
            compute=compute,
        )

    def perform_create(self, serializer):
        serializer.instance = property_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = property_update(
            listing=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        property_delete(listing=instance)
