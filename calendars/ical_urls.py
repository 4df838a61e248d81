from django.urls import re_path

from calendars import ical_apis
from core.api.urls import ID_PATTERN

ICAL = rf"^properties/(?P<property_id>{ID_PATTERN})/ical/"
FEED = rf"(?P<feed_id>{ID_PATTERN})"

urlpatterns = [
    # secrets.token_urlsafe(32): 43 URL-safe characters; anything else is the JSON 404.
    re_path(
        r"^ical/(?P<token>[A-Za-z0-9_-]{43})\.ics$",
        ical_apis.IcalExportFeedApi.as_view(),
        name="ical-export",
    ),
    re_path(rf"{ICAL}rotate/$", ical_apis.IcalExportRotateApi.as_view(), name="ical-rotate"),
    re_path(rf"{ICAL}feeds/$", ical_apis.IcalFeedListApi.as_view(), name="ical-feeds"),
    re_path(rf"{ICAL}feeds/{FEED}/$", ical_apis.IcalFeedDetailApi.as_view(), name="ical-feed"),
    re_path(
        rf"{ICAL}feeds/{FEED}/sync/$", ical_apis.IcalFeedSyncApi.as_view(), name="ical-feed-sync"
    ),
]
