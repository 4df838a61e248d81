from django.urls import re_path

from core.api.urls import ID_PATTERN
from photos import apis

PHOTOS = rf"^properties/(?P<property_id>{ID_PATTERN})/photos/"

urlpatterns = [
    re_path(rf"{PHOTOS}$", apis.PropertyPhotoListApi.as_view(), name="property-photos"),
    re_path(rf"{PHOTOS}order/$", apis.PropertyPhotoOrderApi.as_view(), name="property-photo-order"),
    re_path(
        rf"{PHOTOS}(?P<photo_id>{ID_PATTERN})/$",
        apis.PropertyPhotoDetailApi.as_view(),
        name="property-photo",
    ),
]
