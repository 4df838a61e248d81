from django.core.files.storage import default_storage
from rest_framework import serializers

from core.api import fields
from photos.models import CAPTION_MAX_LENGTH, Photo


class PhotoRenditionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="`320`, `720`, `1280` (pixels wide) or `original`.")
    url = serializers.CharField(help_text="Where the JPEG is served.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class PhotoSerializer(serializers.Serializer):
    """The shape of a photo (documentation; photo_representation builds it)."""

    id = serializers.IntegerField()
    caption = serializers.CharField()
    position = serializers.IntegerField(help_text="0 is the cover.")
    width = serializers.IntegerField(help_text="Of the original, upright.")
    height = serializers.IntegerField()
    renditions = PhotoRenditionSerializer(
        many=True,
        help_text="Every stored size, smallest first (none wider than the original), all "
        "JPEG: enough for a srcset.",
    )


def photo_representation(photo: Photo) -> dict:
    """PhotoSerializer's representation, without the serializer's per-field machinery
    (list pages render one per row)."""
    return {
        "id": photo.pk,
        "caption": photo.caption,
        "position": photo.position,
        "width": photo.width,
        "height": photo.height,
        "renditions": [
            {
                "name": rendition["name"],
                "url": default_storage.url(rendition["file"]),
                "width": rendition["width"],
                "height": rendition["height"],
            }
            for rendition in photo.renditions
        ],
    }


class PhotoUploadSerializer(serializers.Serializer):
    image = serializers.FileField(
        help_text="JPEG, PNG or WebP, recognised from its bytes; re-encoded by the server."
    )
    caption = fields.TextField(
        max_length=CAPTION_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class PhotoCaptionSerializer(serializers.Serializer):
    caption = fields.TextField(max_length=CAPTION_MAX_LENGTH, required=False, allow_blank=True)


class PhotoOrderSerializer(serializers.Serializer):
    photo_ids = serializers.ListField(
        child=fields.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=1000,
        help_text="Every photo id of the property, each once, in the new order.",
    )
