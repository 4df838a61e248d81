import secrets
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F

from core.cache_generations import LISTINGS, cache_generations_forget_on_commit
from core.exceptions import NotFound, PhotoLimitReached
from photos.images import EXTENSION, image_render
from photos.models import Photo
from properties.models import Property

# Positions move out of the way (by this much) before taking their new values, so that no
# single-row update ever collides with the unique (property, position) constraint, which
# PostgreSQL checks row by row.
_POSITION_OFFSET = 1_000_000


def photo_create(*, listing: Property, image: IO[bytes], size: int, caption: str = "") -> Photo:
    """Add a photo after the listing's others: check and re-encode the upload (photos.images,
    whose errors it raises), store its renditions, insert the row. Raises PhotoLimitReached at
    PHOTOS_PER_PROPERTY, NotFound if the listing was removed meanwhile. Stored files are deleted
    again if the row is not inserted; call it outside a transaction, whose later rollback it
    could not see."""
    _check_room(Photo.objects.filter(property_id=listing.pk).count())
    # The slow part (decoding, resizing, storing) runs before any lock is taken.
    rendered = image_render(source=image, size=size)
    stored: list[str] = []
    try:
        token = secrets.token_hex(16)
        renditions = []
        for rendition in rendered.renditions:
            name = default_storage.save(
                f"photos/{token[:2]}/{token}-{rendition.name}.{EXTENSION}",
                ContentFile(rendition.content),
            )
            stored.append(name)
            renditions.append(
                {
                    "name": rendition.name,
                    "file": name,
                    "width": rendition.width,
                    "height": rendition.height,
                }
            )
        with transaction.atomic():
            # Competing uploads, reorders and deletions of this listing's photos queue here.
            listing = _lock(listing.pk)
            count = Photo.objects.filter(property_id=listing.pk).count()
            _check_room(count)
            photo = Photo.objects.create(
                property=listing,
                position=count,
                caption=caption,
                width=rendered.width,
                height=rendered.height,
                renditions=renditions,
            )
            cache_generations_forget_on_commit(LISTINGS)
    except BaseException:
        # Nothing refers to these files: remove them now, whatever went wrong.
        _files_delete(stored)
        raise
    return photo


def photo_update(*, photo: Photo, caption: str) -> Photo:
    """Change a photo's caption."""
    photo.caption = caption
    photo.save(update_fields=["caption", "updated_at"])
    cache_generations_forget_on_commit(LISTINGS)
    return photo


def photo_delete(*, photo: Photo) -> None:
    """Remove a photo; the ones after it move up (the next becomes the cover if it was). Its
    files are deleted once the transaction commits, never before: a rollback keeps them."""
    with transaction.atomic():
        _lock(photo.property_id)
        deleted = Photo.objects.filter(pk=photo.pk).first()
        if deleted is None:
            return  # already gone (a concurrent delete): nothing left to do
        deleted.delete()
        remaining = list(
            Photo.objects.filter(property_id=photo.property_id)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        _renumber(property_id=photo.property_id, photo_ids=remaining)
        _files_delete_on_commit(deleted.file_names())
        cache_generations_forget_on_commit(LISTINGS)


def photo_delete_all(*, listing: Property) -> None:
    """Remove every photo of a listing (it is being deleted); the files go once the transaction
    commits."""
    with transaction.atomic():
        photos = list(Photo.objects.filter(property_id=listing.pk))
        Photo.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
        _files_delete_on_commit([name for photo in photos for name in photo.file_names()])
        cache_generations_forget_on_commit(LISTINGS)


def photo_reorder(*, listing: Property, photo_ids: list[int]) -> list[Photo]:
    """Put the listing's photos in the order of `photo_ids`, all at once. Raises ValidationError
    unless `photo_ids` names each of the listing's photos exactly once."""
    with transaction.atomic():
        _lock(listing.pk)
        current = set(Photo.objects.filter(property_id=listing.pk).values_list("pk", flat=True))
        if len(photo_ids) != len(set(photo_ids)) or set(photo_ids) != current:
            raise ValidationError(
                {
                    "photo_ids": "Must list each of this property's photos exactly once "
                    f"({len(current)} photos)."
                }
            )
        _renumber(property_id=listing.pk, photo_ids=photo_ids)
        cache_generations_forget_on_commit(LISTINGS)
        return list(Photo.objects.filter(property_id=listing.pk).order_by("position"))


def _check_room(count: int) -> None:
    if count >= settings.PHOTOS_PER_PROPERTY:
        raise PhotoLimitReached(
            f"This property already has {count} photos, the most allowed "
            f"({settings.PHOTOS_PER_PROPERTY}); delete one first."
        )


def _lock(property_id: int) -> Property:
    # The listing's row is the lock for its photos, as it is for its bookings (no-op on SQLite,
    # where the IMMEDIATE transaction already holds the write lock).
    listing = Property.objects.select_for_update().filter(pk=property_id).first()
    if listing is None:
        raise NotFound("No such property.")
    return listing


def _renumber(*, property_id: int, photo_ids: list[int]) -> None:
    """Positions 0, 1, 2, ... in the order of `photo_ids` (the listing's photos, locked)."""
    photos = Photo.objects.filter(property_id=property_id)
    photos.update(position=F("position") + _POSITION_OFFSET)
    Photo.objects.bulk_update(
        [Photo(pk=photo_id, position=index) for index, photo_id in enumerate(photo_ids)],
        ["position"],
    )


def _files_delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _files_delete_on_commit(names: list[str]) -> None:
    if not names:
        return

    def delete_photo_files() -> None:
        _files_delete(names)

    # Robust: the rows are gone for good; a storage hiccup must not turn that into an error
    # (Django logs it, and the files stay behind as orphans: docs/deployment.md, "Photos").
    transaction.on_commit(delete_photo_files, robust=True)
