from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel

CAPTION_MAX_LENGTH = 200


class Photo(TimeStampedModel):
    """One photo of a listing, as the server re-encoded it. `position` orders a listing's photos
    from 0 (the cover) without gaps; `renditions` lists the stored files, smallest first, each
    {"name", "file", "width", "height"} where `file` is the storage name (random, never the
    client's) and the last one, "original", is the whole picture re-encoded."""

    property = models.ForeignKey(
        "properties.Property", on_delete=models.CASCADE, related_name="photos"
    )
    position = models.PositiveIntegerField()
    caption = models.CharField(max_length=CAPTION_MAX_LENGTH, blank=True, default="")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    renditions = models.JSONField()

    class Meta:
        constraints = [
            # Also the index behind "a listing's photos in order" and "the cover of each row".
            models.UniqueConstraint(
                fields=["property", "position"], name="photo_position_unique_per_property"
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0) & Q(height__gt=0), name="photo_dimensions_positive"
            ),
        ]

    def __str__(self):
        return f"Photo {self.pk} of property {self.property_id} at {self.position}"

    def file_names(self) -> list[str]:
        return [rendition["file"] for rendition in self.renditions]
