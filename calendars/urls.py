from django.urls import re_path

from calendars import apis
from core.api.urls import ID_PATTERN

urlpatterns = [
    re_path(
        rf"^properties/(?P<property_id>{ID_PATTERN})/blocks/$",
        apis.BlockListCreateApi.as_view(),
        name="property-blocks",
    ),
    re_path(
        rf"^properties/(?P<property_id>{ID_PATTERN})/blocks/(?P<block_id>{ID_PATTERN})/$",
        apis.BlockDeleteApi.as_view(),
        name="property-block",
    ),
]
