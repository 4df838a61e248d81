import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile
from rest_framework.throttling import SimpleRateThrottle

from accounts.tests.factories import UserFactory
from conftest import client_for
from photos.models import Photo
from photos.tests import images
from photos.tests.factories import PhotoFactory
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db


def photos_url(listing) -> str:
    return f"/api/properties/{listing.pk}/photos/"


def upload(client, listing, content: bytes, *, name="photo.jpg", content_type="image/jpeg", **data):
    image = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(photos_url(listing), {"image": image, **data}, format="multipart")


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def media_path(url: str) -> Path:
    assert url.startswith("/media/photos/")
    return Path(settings.MEDIA_ROOT) / url.removeprefix("/media/")


@pytest.fixture
def listing(user):
    return PropertyFactory.create(owner=user)


def test_owner_uploads_a_photo_and_gets_every_rendition(auth_client, listing):
    response = upload(auth_client, listing, images.image_bytes(size=(1600, 1200)), caption="Hall")

    assert response.status_code == 201
    photo = Photo.objects.get()
    body = response.json()
    assert {key: body[key] for key in ("id", "caption", "position", "width", "height")} == {
        "id": photo.pk,
        "caption": "Hall",
        "position": 0,
        "width": 1600,
        "height": 1200,
    }
    sizes = [(r["name"], r["width"], r["height"]) for r in body["renditions"]]
    assert sizes == [
        ("320", 320, 240),
        ("720", 720, 540),
        ("1280", 1280, 960),
        ("original", 1600, 1200),
    ]
    for rendition in body["renditions"]:
        with Image.open(media_path(rendition["url"])) as stored:
            expected = ("JPEG", (rendition["width"], rendition["height"]))
            assert (stored.format, stored.size) == expected
    # Random names, never the client's.
    assert len(stored_files()) == 4
    assert all("photo" not in path.name for path in stored_files())


def test_small_picture_is_never_upscaled(auth_client, listing):
    response = upload(auth_client, listing, images.image_bytes(size=(500, 250)))

    assert [(r["name"], r["width"], r["height"]) for r in response.json()["renditions"]] == [
        ("320", 320, 160),
        ("original", 500, 250),
    ]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_wrong_extension_and_content_type_with_valid_bytes_work(auth_client, listing, fmt):
    content = images.image_bytes(fmt, size=(400, 300), alpha=True)

    response = upload(auth_client, listing, content, name="notes.pdf", content_type="text/html")

    assert response.status_code == 201
    original = response.json()["renditions"][-1]
    with Image.open(media_path(original["url"])) as stored:
        assert (stored.format, stored.mode, stored.size) == ("JPEG", "RGB", (400, 300))
        # Transparency flattened on white: the half-transparent red is pink.
        assert stored.getpixel((200, 150)) == pytest.approx((228, 143, 143), abs=4)


def test_an_upload_over_one_mebibyte_is_accepted(auth_client, listing):
    noise = Image.frombytes("RGB", (1200, 1000), os.urandom(1200 * 1000 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    assert buffer.tell() > 1024 * 1024

    response = upload(auth_client, listing, buffer.getvalue())

    assert response.status_code == 201


REFUSED = {
    "right extension, invalid bytes": (
        b"GIF89a" + b"\x00" * 100, 400, "photo_unsupported_format"
    ),
    "html named .jpg": (images.HTML, 400, "photo_unsupported_format"),
    "gif": (images.image_bytes("GIF"), 400, "photo_unsupported_format"),
    "bmp": (images.image_bytes("BMP"), 400, "photo_unsupported_format"),
    "truncated jpeg": (images.image_bytes(size=(800, 600))[:3000], 400, "photo_corrupt"),
    "truncated png": (images.image_bytes("PNG", size=(300, 300))[:200], 400, "photo_corrupt"),
    "corrupt jpeg": (
        images.image_bytes()[:400] + b"\xff" * 2000 + b"\xff\xd9", 400, "photo_corrupt"
    ),
    "animated png": (images.animated("PNG"), 400, "photo_animated"),
    "animated webp": (images.animated("WEBP"), 400, "photo_animated"),
    "41 megapixels": (images.png_declaring(8000, 5125), 413, "photo_too_many_pixels"),
    "too wide": (images.png_declaring(20000, 100), 413, "photo_too_many_pixels"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(REFUSED))
def test_refused_uploads_name_the_problem_and_store_nothing(auth_client, listing, kind):
    content, status, code = REFUSED[kind]

    response = upload(auth_client, listing, content, name="photo.jpg")

    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) == {"detail", "code"}
    assert response.json()["detail"].startswith("image: ")
    assert not Photo.objects.exists()
    assert stored_files() == []


def test_decompression_bomb_is_refused_without_decoding_a_pixel(auth_client, listing, monkeypatch):
    bomb = images.png_declaring(100_000, 100_000)  # 10 gigapixels in 81 bytes
    assert len(bomb) < 200
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    response = upload(auth_client, listing, bomb, name="bomb.png", content_type="image/png")

    assert response.status_code == 413
    assert response.json()["code"] == "photo_too_many_pixels"
    assert decoded == []
    assert not Photo.objects.exists()
    assert stored_files() == []


def test_a_bomb_under_pillows_own_limit_is_refused_by_ours_before_decoding(
    auth_client, listing, monkeypatch
):
    bomb = images.png_declaring(8000, 6000)  # 48 MP: Pillow alone would decode it
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    response = upload(auth_client, listing, bomb)

    assert (response.status_code, response.json()["code"]) == (413, "photo_too_many_pixels")
    assert decoded == []


def test_file_over_photo_max_bytes_is_a_413(auth_client, listing, settings):
    content = images.image_bytes(size=(800, 600))
    settings.PHOTO_MAX_BYTES = len(content) - 1

    response = upload(auth_client, listing, content)

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"image: {len(content)} bytes is over the limit of {len(content) - 1} bytes.",
        "code": "photo_too_large",
    }
    assert stored_files() == []


def test_body_over_the_photo_limit_is_refused_before_reading(auth_client, listing):
    limit = 10 * 1024 * 1024 + 64 * 1024

    response = auth_client.post(
        photos_url(listing),
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(limit + 1),
    )

    assert response.status_code == 413
    assert response.json() == {
        "detail": f"Request body exceeds the limit of {limit} bytes.",
        "code": "request_too_large",
    }


def test_gps_exif_is_stripped_and_the_photo_turned_upright(auth_client, listing):
    content = images.jpeg_with_gps_rotated(size=(600, 400))
    with Image.open(io.BytesIO(content)) as sent:
        assert sent.getexif().get_ifd(images.GPS_IFD)  # the test's own premise

    response = upload(auth_client, listing, content)

    body = response.json()
    assert (body["width"], body["height"]) == (400, 600)  # portrait once turned
    for rendition in body["renditions"]:
        raw = media_path(rendition["url"]).read_bytes()
        assert b"Exif" not in raw
        assert b"SpyCam" not in raw
        with Image.open(io.BytesIO(raw)) as stored:
            assert dict(stored.getexif()) == {}
            assert set(stored.info) <= {"jfif", "jfif_version", "jfif_unit", "jfif_density",
                                        "progressive", "progression", "dpi"}  # fmt: skip
            # Turned 90° clockwise: the red left half is now on top.
            width, height = stored.size
            top = stored.getpixel((width // 2, height // 5))
            bottom = stored.getpixel((width // 2, height * 4 // 5))
            assert isinstance(top, tuple)
            assert isinstance(bottom, tuple)
            assert top[0] > 180
            assert top[2] < 70
            assert bottom[2] > 180
            assert bottom[0] < 70


def test_jpeg_html_polyglot_is_served_only_as_a_re_encoded_image(auth_client, api_client, listing):
    polyglot = images.jpeg_html_polyglot()

    created = upload(auth_client, listing, polyglot, name="page.html", content_type="text/html")

    assert created.status_code == 201
    for rendition in created.json()["renditions"]:
        served = api_client.get(rendition["url"])
        content = b"".join(served.streaming_content)
        assert served.status_code == 200
        assert served["Content-Type"] == "image/jpeg"
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert content.startswith(b"\xff\xd8")
        assert content.endswith(b"\xff\xd9")
        assert b"<script" not in content
        assert b"<html" not in content
    assert all(images.HTML not in path.read_bytes() for path in stored_files())


def test_the_31st_photo_is_refused(auth_client, listing):
    PhotoFactory.create_batch(30, property=listing)

    response = upload(auth_client, listing, images.image_bytes())

    assert response.status_code == 400
    assert response.json()["code"] == "photo_limit_reached"
    assert Photo.objects.filter(property=listing).count() == 30
    assert stored_files() == []


def test_uploads_are_throttled_per_user(auth_client, listing, monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "photo_upload": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    other_owner = client_for(UserFactory.create())
    statuses = [upload(auth_client, listing, b"not an image").status_code for _ in range(2)]

    throttled = upload(auth_client, listing, images.image_bytes())

    assert statuses == [400, 400]  # refused uploads count too: they cost the same CPU
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert auth_client.get(photos_url(listing)).status_code == 200  # reads are not limited
    assert upload(other_owner, listing, b"x").status_code == 403  # a per-user budget
    assert not Photo.objects.exists()


def test_list_is_public_and_in_order(api_client, listing):
    second = PhotoFactory.create(property=listing, position=1, caption="second")
    first = PhotoFactory.create(property=listing, position=0, caption="first")
    PhotoFactory.create(position=0)  # another listing's

    response = api_client.get(photos_url(listing))

    assert response.status_code == 200
    assert [(p["id"], p["position"], p["caption"]) for p in response.json()] == [
        (first.pk, 0, "first"),
        (second.pk, 1, "second"),
    ]
    assert response.json()[0]["renditions"][0] == {
        "name": "320",
        "url": f"/media/{first.renditions[0]['file']}",
        "width": 320,
        "height": 240,
    }


def test_property_list_carries_the_cover_and_the_detail_every_photo(api_client, listing):
    PropertyFactory.create()  # no photos
    cover = PhotoFactory.create(property=listing, position=0)
    PhotoFactory.create(property=listing, position=1)

    rows = api_client.get("/api/properties/").json()["results"]
    detail = api_client.get(f"/api/properties/{listing.pk}/").json()

    assert [row["cover_photo"]["id"] if row["cover_photo"] else None for row in rows] == [
        None,
        cover.pk,
    ]
    assert "photos" not in rows[1]
    assert [photo["position"] for photo in detail["photos"]] == [0, 1]
    assert detail["cover_photo"] == detail["photos"][0] == rows[1]["cover_photo"]


def test_property_list_query_count_does_not_grow_with_photos(api_client, django_assert_num_queries):
    for listing in PropertyFactory.create_batch(20):
        PhotoFactory.create(property=listing, position=0)
        PhotoFactory.create(property=listing, position=1)

    with django_assert_num_queries(2):  # a COUNT, the page with its covers
        response = api_client.get("/api/properties/", {"location": "nairobi"})

    assert all(row["cover_photo"]["position"] == 0 for row in response.json()["results"])


def test_owner_edits_a_caption(auth_client, listing):
    photo = PhotoFactory.create(property=listing, caption="old")

    response = auth_client.patch(f"{photos_url(listing)}{photo.pk}/", {"caption": "new"})

    assert response.status_code == 200
    assert response.json()["caption"] == "new"
    photo.refresh_from_db()
    assert photo.caption == "new"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"caption": "x" * 201}, "Ensure this field has no more than 200 characters."),
        ({"caption": 5}, "Not a valid string."),
    ],
)
def test_invalid_caption_is_a_400_and_changes_nothing(auth_client, listing, body, message):
    photo = PhotoFactory.create(property=listing, caption="old")

    response = auth_client.patch(f"{photos_url(listing)}{photo.pk}/", body)

    assert response.status_code == 400
    assert response.json()["errors"] == {"caption": [message]}
    photo.refresh_from_db()
    assert photo.caption == "old"


def test_upload_caption_over_200_characters_is_a_400(auth_client, listing):
    response = upload(auth_client, listing, images.image_bytes(), caption="x" * 201)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "caption": ["Ensure this field has no more than 200 characters."]
    }
    assert stored_files() == []


def test_upload_without_an_image_or_as_json_is_refused(auth_client, listing):
    missing = auth_client.post(photos_url(listing), {"caption": "x"}, format="multipart")
    as_json = auth_client.post(photos_url(listing), {"image": "aGVsbG8="}, format="json")

    assert missing.status_code == 400
    assert missing.json()["errors"] == {"image": ["No file was submitted."]}
    assert (as_json.status_code, as_json.json()["code"]) == (415, "unsupported_media_type")


def test_delete_removes_the_photo_and_its_files_after_commit_and_closes_the_gap(
    auth_client, listing, django_capture_on_commit_callbacks
):
    ids = [upload(auth_client, listing, images.image_bytes()).json()["id"] for _ in range(3)]
    first_files = set(Photo.objects.get(pk=ids[0]).file_names())

    with django_capture_on_commit_callbacks() as callbacks:
        response = auth_client.delete(f"{photos_url(listing)}{ids[0]}/")
        left_before_commit = {str(p.relative_to(settings.MEDIA_ROOT)) for p in stored_files()}
    for callback in callbacks:
        callback()

    assert response.status_code == 204
    assert first_files <= left_before_commit  # nothing deleted before the commit
    assert len(stored_files()) == 4  # two renditions (320 and the original) each
    assert not first_files & {str(p.relative_to(settings.MEDIA_ROOT)) for p in stored_files()}
    assert list(Photo.objects.order_by("position").values_list("pk", "position")) == [
        (ids[1], 0),
        (ids[2], 1),
    ]


def test_deleting_a_listing_removes_its_photos_and_files_after_commit(
    auth_client, listing, django_capture_on_commit_callbacks
):
    upload(auth_client, listing, images.image_bytes())
    upload(auth_client, listing, images.image_bytes())
    other = upload(auth_client, PropertyFactory.create(owner=listing.owner), images.image_bytes())

    with django_capture_on_commit_callbacks() as callbacks:
        response = auth_client.delete(f"/api/properties/{listing.pk}/")
        before_commit = len(stored_files())
    for callback in callbacks:
        callback()

    assert response.status_code == 204
    assert before_commit == 6  # two renditions (320 and the original) each
    assert list(Photo.objects.values_list("pk", flat=True)) == [other.json()["id"]]
    assert len(stored_files()) == 2


def test_reorder_puts_photos_in_the_given_order(auth_client, listing):
    photos = [PhotoFactory.create(property=listing, position=n) for n in range(3)]
    order = [photos[2].pk, photos[0].pk, photos[1].pk]

    response = auth_client.put(f"{photos_url(listing)}order/", {"photo_ids": order})

    assert response.status_code == 200
    assert [(p["id"], p["position"]) for p in response.json()] == [
        (order[0], 0),
        (order[1], 1),
        (order[2], 2),
    ]
    cover = auth_client.get(f"/api/properties/{listing.pk}/").json()["cover_photo"]
    assert cover["id"] == photos[2].pk


@pytest.mark.parametrize("kind", ["missing one", "duplicate", "another listing's", "unknown"])
def test_reorder_with_a_list_that_is_not_exactly_the_photos_is_a_400(auth_client, listing, kind):
    photos = [PhotoFactory.create(property=listing, position=n) for n in range(3)]
    ids = [photo.pk for photo in photos]
    foreign = PhotoFactory.create(position=0)
    order = {
        "missing one": ids[:2],
        "duplicate": [ids[0], ids[0], ids[1], ids[2]],
        "another listing's": [*ids, foreign.pk],
        "unknown": [*ids[1:], 999_999_999_999],
    }[kind]

    response = auth_client.put(f"{photos_url(listing)}order/", {"photo_ids": order})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "photo_ids": ["Must list each of this property's photos exactly once (3 photos)."]
    }
    assert list(Photo.objects.filter(property=listing).order_by("position")) == photos


def test_another_users_upload_edit_reorder_and_delete_are_403(listing):
    photo = PhotoFactory.create(property=listing, position=0, caption="mine")
    attacker = client_for(UserFactory.create())
    base = photos_url(listing)

    responses = [
        upload(attacker, listing, images.image_bytes()),
        attacker.patch(f"{base}{photo.pk}/", {"caption": "pwned"}),
        attacker.put(f"{base}order/", {"photo_ids": [photo.pk]}),
        attacker.delete(f"{base}{photo.pk}/"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert {r.json()["code"] for r in responses} == {"permission_denied"}
    assert list(Photo.objects.values_list("pk", "caption", "position")) == [(photo.pk, "mine", 0)]
    assert stored_files() == []


def test_unknown_listing_or_another_listings_photo_is_a_404(auth_client, api_client, listing):
    foreign = PhotoFactory.create(position=0, caption="theirs")
    deleted = PropertyFactory.create(owner=listing.owner)
    deleted.delete()

    responses = [
        api_client.get("/api/properties/999999/photos/"),
        upload(auth_client, deleted, images.image_bytes()),
        auth_client.patch(f"{photos_url(listing)}{foreign.pk}/", {"caption": "x"}),
        auth_client.delete(f"{photos_url(listing)}{foreign.pk}/"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert {r.json()["code"] for r in responses} == {"not_found"}
    foreign.refresh_from_db()
    assert foreign.caption == "theirs"


def test_writes_need_a_token(api_client, listing):
    photo = PhotoFactory.create(property=listing)

    responses = [
        upload(api_client, listing, images.image_bytes()),
        api_client.patch(f"{photos_url(listing)}{photo.pk}/", {"caption": "x"}),
        api_client.put(f"{photos_url(listing)}order/", {"photo_ids": [photo.pk]}),
        api_client.delete(f"{photos_url(listing)}{photo.pk}/"),
    ]

    assert [r.status_code for r in responses] == [401, 401, 401, 401]
    assert Photo.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/media/photos/../../etc/passwd.jpg",
        "/media/photos/ab/missing.jpg",
        "/media/photos/ab/secret.txt",
        "/media/elsewhere.jpg",
    ],
)
def test_media_serves_only_stored_photos(api_client, path):
    Path(settings.MEDIA_ROOT, "photos", "ab").mkdir(parents=True)
    Path(settings.MEDIA_ROOT, "photos", "ab", "secret.txt").write_text("secret")
    Path(settings.MEDIA_ROOT, "elsewhere.jpg").write_text("x")

    assert api_client.get(path).status_code == 404


def test_a_stored_photo_is_served_as_a_jpeg_and_revalidates_with_a_304(api_client):
    Path(settings.MEDIA_ROOT, "photos", "ab").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(Path(settings.MEDIA_ROOT, "photos", "ab", "x.jpg"), "JPEG")

    first = api_client.get("/media/photos/ab/x.jpg")
    again = api_client.get("/media/photos/ab/x.jpg", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert (first.status_code, first["Content-Type"]) == (200, "image/jpeg")
    assert first["X-Content-Type-Options"] == "nosniff"
    assert again.status_code == 304
