import urllib.request
import uuid
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import client_for
from core.exceptions import NotFound
from photos import services
from photos.models import Photo
from photos.services import photo_create, photo_delete
from photos.tests import images
from properties.models import Property
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def create(listing, content: bytes, caption: str = "") -> Photo:
    upload = SimpleUploadedFile("photo.jpg", content)
    return photo_create(listing=listing, image=upload, size=upload.size or 0, caption=caption)


def test_listing_removed_while_rendering_leaves_no_file(settings, monkeypatch):
    listing = PropertyFactory.create()
    render = services.image_render

    def render_while_the_listing_is_removed(**kwargs):
        rendered = render(**kwargs)
        Property.objects.filter(pk=listing.pk).update(deleted_at=timezone.now())
        return rendered

    monkeypatch.setattr(services, "image_render", render_while_the_listing_is_removed)

    with pytest.raises(NotFound):
        create(listing, images.image_bytes(size=(1600, 1200)))

    assert not Photo.objects.exists()
    assert stored_files(settings) == []


class FailingOnThirdSaveStorage(FileSystemStorage):
    """The local file system, failing like a full disk or a dropped connection mid-upload."""

    saves = 0

    def _save(self, name, content):
        type(self).saves += 1
        if type(self).saves == 3:
            raise OSError("No space left on device")
        return super()._save(name, content)  # type: ignore[misc]


def test_storage_failure_mid_upload_removes_what_was_stored(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.FailingOnThirdSaveStorage"},
    }
    listing = PropertyFactory.create()

    with pytest.raises(OSError, match="No space left"):
        create(listing, images.image_bytes(size=(1600, 1200)))

    assert FailingOnThirdSaveStorage.saves == 3
    assert not Photo.objects.exists()
    assert stored_files(settings) == []


def test_photo_writes_forget_cached_property_responses(
    settings, api_client, django_capture_on_commit_callbacks
):
    settings.RESPONSE_CACHE_SECONDS = 60
    listing = PropertyFactory.create()
    owner = client_for(listing.owner)
    detail = f"/api/properties/{listing.pk}/"
    for _ in range(2):  # stored on the second miss (core.cache_generations.RecentMisses)
        assert api_client.get(detail).json()["photos"] == []
        assert api_client.get("/api/properties/").json()["results"][0]["cover_photo"] is None

    with django_capture_on_commit_callbacks(execute=True):
        first = owner.post(
            f"{detail}photos/",
            {"image": SimpleUploadedFile("a.png", images.image_bytes())},
            format="multipart",
        ).json()
    assert api_client.get(detail).json()["cover_photo"]["id"] == first["id"]
    assert api_client.get("/api/properties/").json()["results"][0]["cover_photo"] == first

    with django_capture_on_commit_callbacks(execute=True):
        owner.patch(f"{detail}photos/{first['id']}/", {"caption": "Garden"})
    assert api_client.get(detail).json()["photos"][0]["caption"] == "Garden"

    with django_capture_on_commit_callbacks(execute=True):
        owner.delete(f"{detail}photos/{first['id']}/")
    assert api_client.get(detail).json()["photos"] == []


def test_s3_upload_render_read_back_and_delete(
    settings, s3_endpoint, django_capture_on_commit_callbacks
):
    bucket = f"photos-{uuid.uuid4().hex[:12]}"
    credentials = {
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **credentials)
    s3.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "file_overwrite": False,
            },
        },
    }
    listing = PropertyFactory.create()

    photo = create(listing, images.jpeg_with_gps_rotated(size=(2000, 1500)), caption="S3")

    keys = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted(photo.file_names())
    assert len(keys) == 4
    body = client_for(listing.owner).get(f"/api/properties/{listing.pk}/photos/").json()
    for rendition in body[0]["renditions"]:
        assert rendition["url"].startswith(f"{s3_endpoint}/{bucket}/photos/")
        with urllib.request.urlopen(rendition["url"], timeout=10) as served:
            content = served.read()
            assert served.headers["Content-Type"] == "image/jpeg"
        assert content.startswith(b"\xff\xd8")
        assert b"Exif" not in content
    assert stored_files(settings) == []  # nothing on the local disk

    with django_capture_on_commit_callbacks(execute=True):
        photo_delete(photo=photo)

    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert not Photo.objects.exists()
