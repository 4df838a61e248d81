"""Simultaneous writes to one listing's photos, each thread on its own connection: the listing's
row lock (SQLite: the IMMEDIATE write lock) makes them take turns."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from conftest import client_for, run_simultaneously
from photos.models import Photo
from photos.tests import images
from photos.tests.factories import PhotoFactory
from properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_reorders_apply_one_order_whole_never_a_mix():
    listing = PropertyFactory.create()
    ids = [PhotoFactory.create(property=listing, position=n).pk for n in range(6)]
    orders = [list(reversed(ids)), ids[3:] + ids[:3]]
    clients = [client_for(listing.owner) for _ in orders]
    url = f"/api/properties/{listing.pk}/photos/order/"

    statuses = run_simultaneously(
        [
            lambda client=client, order=order: client.put(url, {"photo_ids": order}).status_code
            for client, order in zip(clients, orders, strict=True)
        ]
    )

    assert statuses == [200, 200]
    final = list(
        Photo.objects.filter(property=listing).order_by("position").values_list("pk", "position")
    )
    assert [position for _, position in final] == list(range(6))
    assert [pk for pk, _ in final] in orders


def test_two_concurrent_uploads_for_the_last_place_store_exactly_one(settings):
    settings.PHOTOS_PER_PROPERTY = 3
    listing = PropertyFactory.create()
    PhotoFactory.create(property=listing, position=0)
    PhotoFactory.create(property=listing, position=1)
    clients = [client_for(listing.owner) for _ in range(2)]
    url = f"/api/properties/{listing.pk}/photos/"

    def upload(client):
        image = SimpleUploadedFile("p.jpg", images.image_bytes(size=(400, 300)))
        return client.post(url, {"image": image}, format="multipart").status_code

    statuses = run_simultaneously([lambda client=client: upload(client) for client in clients])

    assert sorted(statuses) == [201, 400]
    assert sorted(Photo.objects.filter(property=listing).values_list("position", flat=True)) == [
        0,
        1,
        2,
    ]
    # The refused upload's files were removed again: the winner's 320 and original remain.
    assert len([path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]) == 2
