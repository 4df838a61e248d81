from django.db.models import QuerySet

from core.compiled_queries import CompiledQuery
from core.exceptions import NotFound
from photos.models import Photo


def photo_list(*, property_id: int) -> QuerySet[Photo]:
    """A listing's photos in order, the cover first."""
    return Photo.objects.filter(property_id=property_id).order_by("position")


_PHOTOS_OF_LISTING = CompiledQuery(
    lambda property_id: photo_list(property_id=property_id).values(
        "id", "property_id", "position", "caption", "width", "height", "renditions"
    ),
    "property_id",
)


def photo_rows(*, property_id: int) -> list[Photo]:
    """photo_list's photos (their shown fields only), from a query compiled once per process:
    the property detail's hot path."""
    return [Photo(**row) for row in _PHOTOS_OF_LISTING.rows(property_id=property_id)]


def photo_get(*, property_id: int, photo_id: int) -> Photo:
    """One photo of a listing. Raises NotFound for an unknown id or another listing's photo."""
    photo = Photo.objects.filter(property_id=property_id, pk=photo_id).first()
    if photo is None:
        raise NotFound("No such photo of this property.")
    return photo
