from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from calendars.selectors import block_list
from calendars.serializers import BlockInputSerializer, BlockOutputSerializer
from calendars.services import block_create, block_delete
from core.api.schema import EXAMPLE_CHECK_IN, EXAMPLE_CHECK_OUT, error_responses
from properties.models import Property


class _OwnerOnlyMixin(generics.GenericAPIView):
    """The listing's owner only: a 404 for a listing nobody lists, a 403 for someone else's."""

    def owned_listing(self) -> Property:
        listing = get_object_or_404(
            Property.objects.only("pk", "owner_id"), pk=self.kwargs["property_id"]
        )
        if listing.owner_id != self.request.user.pk:
            self.permission_denied(
                self.request, message="Only the property's owner can manage its calendar."
            )
        return listing


@extend_schema_view(
    get=extend_schema(
        tags=["calendar"],
        summary="List a property's blocked dates",
        description="For the property's owner only (anyone else gets a 403): the ranges the "
        "host blocked, by start, with their private notes.",
        responses={200: BlockOutputSerializer(many=True), **error_responses(403)},
    ),
    post=extend_schema(
        tags=["calendar"],
        summary="Block dates",
        description="The owner blocks the nights [`start`, `end`) so that nobody can book "
        "them. A range that shares a night with a stay, a pending request, another block or an "
        "imported event is a 409 naming those dates (never the guest); one that ends in the "
        "listing's past, lasts more than 365 nights or starts more than 730 days ahead is a "
        "400.",
        request=BlockInputSerializer,
        responses={201: BlockOutputSerializer, **error_responses(403, 409)},
        examples=[
            OpenApiExample(
                "Repairs",
                value={"start": EXAMPLE_CHECK_IN, "end": EXAMPLE_CHECK_OUT, "note": "Painters"},
                request_only=True,
            )
        ],
    ),
)
class BlockListCreateApi(_OwnerOnlyMixin, generics.ListAPIView):
    serializer_class = BlockOutputSerializer
    permission_classes = [permissions.IsAuthenticated]
    pagination_class = None  # a listing has a few dozen blocks at most within two years

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no request data
            return block_list(property_id=0)
        return block_list(property_id=self.owned_listing().pk)

    def post(self, request, property_id):
        listing = self.owned_listing()
        serializer = BlockInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        block = block_create(
            owner=request.user, property_id=listing.pk, **serializer.validated_data
        )
        return Response(BlockOutputSerializer(block).data, status=status.HTTP_201_CREATED)


class BlockDeleteApi(_OwnerOnlyMixin):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BlockOutputSerializer

    @extend_schema(
        tags=["calendar"],
        summary="Unblock dates",
        description="The owner deletes one of the listing's blocks; its nights are free again.",
        responses={204: None, **error_responses(403)},
    )
    def delete(self, request, property_id, block_id):
        listing = self.owned_listing()
        block_delete(owner=request.user, property_id=listing.pk, block_id=int(block_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
