from django.db.models import QuerySet

from core.exceptions import NotFound
from photos.models import Photo


def photo_list(*, property_id: int) -> QuerySet[Photo]:
    """A listing's photos in order, the cover first."""
    return Photo.objects.filter(property_id=property_id).order_by("position")


def photo_get(*, property_id: int, photo_id: int) -> Photo:
    """One photo of a listing. Raises NotFound for an unknown id or another listing's photo."""
    photo = Photo.objects.filter(property_id=property_id, pk=photo_id).first()
    if photo is None:
        raise NotFound("No such photo of this property.")
    return photo
