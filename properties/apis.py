from urllib.parse import urlencode

from django.http import Http404
from django.utils.cache import patch_cache_control, patch_vary_headers
from django_filters import utils as filter_utils
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

from accounts.models import User
from core.api.pagination import PageNumberPagination
from core.api.permissions import IsOwnerOrReadOnly
from core.api.schema import EXAMPLE_CREATED_AT, error_responses
from core.api.urls import ID_PATTERN
from core.cache_generations import AVAILABILITY, LISTINGS, response_cache_get_or_compute
from core.local_time import calendar_epoch
from properties.filters import PropertyFilter, property_criteria, property_filter_form_class
from properties.models import AMENITY_CODE_PATTERN, Amenity
from properties.selectors import (
    PropertySearch,
    property_detail_parts,
    property_list,
    property_listed_count,
)
from properties.serializers import (
    AmenitySerializer,
    PropertyCardSerializer,
    PropertySerializer,
    property_detail_representation,
    property_row_representation,
)
from properties.services import property_create, property_delete, property_update

# Query parameters that never narrow the result: the unfiltered list's total holds for them.
PAGING_PARAMS = {"page", "page_size", api_settings.URL_FORMAT_OVERRIDE}
LIST_PARAMS = {*PropertyFilter.base_filters, *PAGING_PARAMS}
DETAIL_PARAMS = {api_settings.URL_FORMAT_OVERRIDE}
# How long browsers and shared caches may reuse an anonymous list or detail without asking;
# after that they revalidate with the ETag (a 304 while nothing changed). A write shows there
# at most this late.
PUBLIC_MAX_AGE_SECONDS = 30

MODERN_STUDIO = {
    "title": "Modern Studio",
    "description": "A nice apartment in the city center.",
    "price_per_night": 75,
    "location": "Nairobi, Kenya",
    "availability": True,
}


STAY_RULES = (
    "`check_in` may not be before the listing's today nor more than 730 days after it; "
    "`check_out` must be after it, at most 365 nights later."
)


@extend_schema_view(
    list=extend_schema(
        summary="Search properties",
        description="Anyone may browse, newest first, 20 per page at most; each row is what a "
        "listing card needs (the full description is on the detail). Every filter is optional "
        "and they combine. `check_in` with `check_out` (and `guests`) keeps exactly the "
        f"properties a booking of that stay would succeed on: {STAY_RULES} Each listing judges "
        '"today" in its own time zone, so the answer depends on the hour; those rules cannot '
        "be stated in the schema. A day in the past (or beyond the window) in every time zone "
        "is a 400 naming it, as is an unknown amenity code, `ordering=distance` or `radius_km` "
        "without `near`, any parameter the list does not know, or one given twice.",
        responses={200: PropertyCardSerializer(many=True)},
        auth=[],
    ),
    retrieve=extend_schema(
        summary="Read a property",
        description="Anyone may read a listed property; a removed one is a 404.",
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
        summary="List a property",
        description="A signed-in user lists a place and becomes its owner. The price per "
        "night is a JSON number or a decimal string, above 0 and at most 1,000,000, in cents.",
        examples=[
            OpenApiExample("Modern Studio", value=MODERN_STUDIO, request_only=True),
            OpenApiExample(
                "Modern Studio",
                value={
                    "id": 10,
                    **MODERN_STUDIO,
                    "owner": "john_doe",
                    "created_at": EXAMPLE_CREATED_AT,
                    "updated_at": EXAMPLE_CREATED_AT,
                },
                response_only=True,
            ),
        ],
    ),
    update=extend_schema(
        summary="Replace a property",
        description="The owner replaces every editable field (others are a 403). Bookings "
        "already made keep the price they were confirmed at.",
        responses={200: PropertySerializer, **error_responses(403)},
    ),
    partial_update=extend_schema(
        summary="Change part of a property",
        description="The owner changes any of the editable fields (others are a 403). "
        "Bookings already made keep the price they were confirmed at.",
        responses={200: PropertySerializer, **error_responses(403)},
    ),
    destroy=extend_schema(
        summary="Remove a property",
        description="The owner unlists the property (others are a 403). While a confirmed "
        "stay there has not ended the answer is a 409: guests keep the place they counted on. "
        "Past bookings still show its title.",
        responses={204: None, **error_responses(403, 409)},
    ),
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
        # The filters are the list's, which validates and applies them itself (_list_data).
        # DRF would apply them to one property's URL too (a detail "not found" for a booked
        # stay); the schema never offered that, so it is not done.
        return queryset

    def list(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(LIST_PARAMS)
        return self._public(Response(self._cached(self._list_data)))

    def _list_data(self) -> dict:
        paginator = self.paginator
        assert isinstance(paginator, PageNumberPagination)  # DEFAULT_PAGINATION_CLASS
        queryset = self.get_queryset()
        parameters = set(self.request.query_params)
        if parameters <= {*PAGING_PARAMS, "ordering"}:
            # A sort does not change the total: the unfiltered list's cached one, and one query
            # for the page (a deferred join from the sort's index, compiled once per sort); a
            # count with the page would read every row. Nothing to validate without a sort.
            unsorted = parameters <= PAGING_PARAMS
            search = PropertySearch(
                property_criteria({} if unsorted else self._validated_filters())
            )
            paginator.known_count = property_listed_count()
            paginator.page_loader = lambda offset, limit: search.rows(offset=offset, limit=limit)
        else:
            search = PropertySearch(property_criteria(self._validated_filters()))
            # Each page comes with the search's total, from one query (PropertySearch.page).
            paginator.counted_page_loader = lambda offset, limit: search.page(
                offset=offset, limit=limit
            )
        rows = self.paginate_queryset(queryset)
        assert rows is not None  # the paginator always has a page size
        return self.get_paginated_response([property_row_representation(row) for row in rows]).data

    def _validated_filters(self) -> dict:
        # django-filter's form parses and validates the parameters (400s naming them, as its
        # backend raises them); PropertySearch runs the query, from a compiled template when
        # it can.
        form = property_filter_form_class()(self.request.query_params)
        if not form.is_valid():
            raise filter_utils.translate_validation(form.errors)
        return form.cleaned_data

    def retrieve(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(DETAIL_PARAMS)
        return self._public(Response(self._cached(self._detail_data)))

    def _detail_data(self) -> dict:
        # No object permission to check: IsOwnerOrReadOnly lets every safe method through.
        parts = property_detail_parts(property_id=int(self.kwargs["pk"]))
        if parts is None:
            raise Http404
        return property_detail_representation(*parts)

    def _public(self, response: Response) -> Response:
        # The data is everyone's, but an answer to a signed-in request stays no-store like
        # every authenticated one (core.middleware.NoStoreByDefaultMiddleware), and shared
        # caches keep the two apart: a request with a token, even a bad one (401), never gets
        # the anonymous copy. ConditionalGetMiddleware adds the ETag and answers 304.
        patch_vary_headers(response, ["Authorization"])
        if not self.request.user.is_authenticated:
            patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE_SECONDS)
        return response

    def _refuse_unknown_parameters(self, known: set[str]) -> None:
        # A parameter nothing reads would silently do nothing, and each new spelling of it
        # would be a new cache entry (and, on the unfiltered list, an exact COUNT).
        unknown = sorted(set(self.request.query_params) - known)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})

    def _cached(self, compute) -> dict:
        # Everyone sees the same public data; authentication, permissions and throttling have
        # already run. Keyed by scheme, host and path (the envelope's links carry them), the
        # parameters in one canonical order and encoding, and for dated searches the calendar
        # epoch (which stays are bookable changes at every zone's midnight and at every
        # listing's advance-notice deadline: at most a minute apart).
        query = self.request.query_params
        generations: tuple[str, ...] = (LISTINGS,)
        epoch = ""
        if {"check_in", "check_out"} & set(query):
            generations += (AVAILABILITY,)
            epoch = calendar_epoch()
        canonical = urlencode(sorted(query.lists()), doseq=True)
        origin = self.request.build_absolute_uri(self.request.path)
        return response_cache_get_or_compute(
            generations=generations,
            key=f"{epoch} {origin}?{canonical}",
            compute=compute,
        )

    def perform_create(self, serializer):
        owner = self.request.user
        assert isinstance(owner, User)  # IsAuthenticatedOrReadOnly: a write has a signed-in user
        serializer.instance = property_create(owner=owner, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = property_update(
            listing=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        property_delete(listing=instance)


@extend_schema_view(
    list=extend_schema(
        summary="List amenities",
        description="The whole amenity vocabulary, by category: the codes a listing's "
        "`amenities` and the search's `amenities` filter take.",
        tags=["properties"],
        auth=[],
    ),
    retrieve=extend_schema(
        summary="Read an amenity",
        description="One amenity by its code; an unknown code is a 404.",
        tags=["properties"],
        auth=[],
    ),
)
class AmenityViewSet(viewsets.ReadOnlyModelViewSet):
    """The amenity vocabulary: stable codes a listing's `amenities` and the `amenities` filter
    use, with names for people."""

    queryset = Amenity.objects.all()
    serializer_class = AmenitySerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None
    lookup_field = "code"
    lookup_value_regex = AMENITY_CODE_PATTERN
