from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api.permissions import IsOwnerOrReadOnly
from core.api.schema import ErrorSerializer, error_responses
from photos.selectors import photo_get, photo_list
from photos.serializers import (
    PhotoCaptionSerializer,
    PhotoOrderSerializer,
    PhotoSerializer,
    PhotoUploadSerializer,
    photo_representation,
)
from photos.services import photo_create, photo_delete, photo_reorder, photo_update
from properties.models import Property

# Room for the multipart envelope and the caption around the largest image accepted.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

UPLOAD_REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="Not a photo we accept: `code` says why (`photo_unsupported_format`, "
    "`photo_corrupt`, `photo_animated`, `photo_limit_reached`), or `validation_error` "
    "for a missing image or a caption over 200 characters. Nothing is stored.",
)
UPLOAD_TOO_LARGE = OpenApiResponse(
    ErrorSerializer,
    description="Over PHOTO_MAX_BYTES (`photo_too_large`, 10 MiB by default) or "
    "PHOTO_MAX_PIXELS (`photo_too_many_pixels`, 40 megapixels by default); or the whole body "
    "over that plus 64 KiB (`request_too_large`).",
)


class PhotoUploadThrottle(UserRateThrottle):
    """Uploads per user (PHOTO_UPLOAD_THROTTLE_RATE): each one costs real CPU, refused or not."""

    scope = "photo_upload"


class PropertyPhotoApi(APIView):
    """Anyone reads a listing's photos; only its owner changes them (403 for anyone else, 404
    for a listing that does not exist)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]

    def get_listing(self) -> Property:
        # Only owner_id is needed: no join (Property.objects hides unlisted ones).
        listing = get_object_or_404(Property.objects, pk=self.kwargs["property_id"])
        self.check_object_permissions(self.request, listing)
        return listing


class PropertyPhotoListApi(PropertyPhotoApi):
    parser_classes = [MultiPartParser]

    @classmethod
    def max_request_body_bytes(cls) -> int:
        """Read by core.middleware.RequestBodyLimitMiddleware instead of the 1 MiB default."""
        return settings.PHOTO_MAX_BYTES + MULTIPART_OVERHEAD_BYTES

    def get_throttles(self):
        throttles = super().get_throttles()
        if getattr(self.request, "method", None) == "POST":
            throttles.append(PhotoUploadThrottle())
        return throttles

    @extend_schema(
        summary="List a property's photos",
        description="Anyone may read them, in order: the first (position 0) is the cover. "
        "Each lists its renditions (320, 720 and 1,280 pixels wide when the original is wider, "
        "and the original), all re-encoded JPEGs, for a srcset.",
        auth=[],
        responses={200: PhotoSerializer(many=True)},
    )
    def get(self, request, property_id):
        listing = self.get_listing()
        photos = photo_list(property_id=listing.pk)
        return Response([photo_representation(photo) for photo in photos])

    @extend_schema(
        summary="Upload a photo",
        description="The owner adds a photo after the others (multipart/form-data: `image`, "
        "optional `caption` up to 200 characters). JPEG, PNG or WebP, recognised from the "
        "bytes, not animated, at most PHOTO_MAX_BYTES (10 MiB) and PHOTO_MAX_PIXELS (40 MP), "
        "at most PHOTOS_PER_PROPERTY (30) per property; uploads per user are rate-limited. "
        "The server re-encodes it, turned upright and without any metadata (EXIF, GPS).",
        request={"multipart/form-data": PhotoUploadSerializer},
        responses={
            201: PhotoSerializer,
            400: UPLOAD_REFUSED,
            413: UPLOAD_TOO_LARGE,
            **error_responses(403),
        },
    )
    def post(self, request, property_id):
        listing = self.get_listing()
        serializer = PhotoUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        image = serializer.validated_data["image"]
        photo = photo_create(
            listing=listing,
            image=image,
            size=image.size,
            caption=serializer.validated_data["caption"],
        )
        return Response(photo_representation(photo), status=status.HTTP_201_CREATED)


class PropertyPhotoDetailApi(PropertyPhotoApi):
    http_method_names = ["patch", "delete", "options"]

    @extend_schema(
        summary="Change a photo's caption",
        description="Only the property's owner.",
        request=PhotoCaptionSerializer,
        responses={200: PhotoSerializer, **error_responses(403)},
    )
    def patch(self, request, property_id, photo_id):
        listing = self.get_listing()
        photo = photo_get(property_id=listing.pk, photo_id=photo_id)
        serializer = PhotoCaptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        caption = serializer.validated_data.get("caption", photo.caption)  # PATCH: all optional
        photo = photo_update(photo=photo, caption=caption)
        return Response(photo_representation(photo))

    @extend_schema(
        summary="Delete a photo",
        description="Only the property's owner. The photos after it move up; its files are "
        "deleted once the deletion is committed.",
        responses={204: None, **error_responses(403)},
    )
    def delete(self, request, property_id, photo_id):
        listing = self.get_listing()
        photo_delete(photo=photo_get(property_id=listing.pk, photo_id=photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PropertyPhotoOrderApi(PropertyPhotoApi):
    http_method_names = ["put", "options"]

    @extend_schema(
        summary="Reorder the photos",
        description="Only the property's owner: `photo_ids` lists every photo of the property "
        "exactly once, in the new order (the first becomes the cover), applied all at once; "
        "any other list is a 400 and changes nothing.",
        request=PhotoOrderSerializer,
        responses={200: PhotoSerializer(many=True), **error_responses(403)},
    )
    def put(self, request, property_id):
        listing = self.get_listing()
        serializer = PhotoOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        photos = photo_reorder(listing=listing, photo_ids=serializer.validated_data["photo_ids"])
        return Response([photo_representation(photo) for photo in photos])
