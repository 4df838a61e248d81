import factory

from photos.models import Photo
from properties.tests.factories import PropertyFactory


def renditions_for(width: int, height: int, token: str) -> list[dict]:
    """What photo_create stores, for rows whose files do not matter to the test."""
    return [
        {"name": "320", "file": f"photos/{token[:2]}/{token}-320.jpg", "width": 320,
         "height": round(height * 320 / width)},
        {"name": "original", "file": f"photos/{token[:2]}/{token}-original.jpg",
         "width": width, "height": height},
    ]  # fmt: skip


class PhotoFactory(factory.django.DjangoModelFactory[Photo]):
    """A photo row without files; tests that need real files upload through photo_create."""

    class Meta:
        model = Photo

    property = factory.SubFactory(PropertyFactory)
    position = factory.Sequence(lambda n: n)
    caption = ""
    width = 800
    height = 600
    renditions = factory.LazyAttribute(
        lambda photo: renditions_for(photo.width, photo.height, f"{photo.position:032x}")
    )
