from django.urls import re_path

from core.api.urls import ID_PATTERN
from rates import apis

PROPERTY = rf"^properties/(?P<property_id>{ID_PATTERN})"

urlpatterns = [
    re_path(rf"{PROPERTY}/rates/$", apis.RatePlanApi.as_view(), name="property-rates"),
    re_path(rf"{PROPERTY}/rates/days/$", apis.RateDaysApi.as_view(), name="property-rate-days"),
    re_path(rf"{PROPERTY}/calendar/$", apis.PropertyNightsApi.as_view(), name="property-calendar"),
    re_path(rf"{PROPERTY}/quote/$", apis.QuoteApi.as_view(), name="property-quote"),
]
