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


def photo_covers(*, property_ids: list[int]) -> dict[int, Photo]:
    """The cover (first photo) of each listing that has one, by property id: one query for a
    whole page of listings."""
    if not property_ids:
        return {}
    return {
        photo.property_id: photo
        for photo in Photo.objects.filter(property_id__in=property_ids, position=0)
    }
