from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from core import views as core_views
from core.api.docs import RedocView, SchemaView, SwaggerView
from photos.views import media_file

urlpatterns = [
    path("", core_views.index, name="index"),
    # APPEND_SLASH is off (an API URL without its slash is a 404); people type /admin.
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/health/", core_views.health, name="health"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/", include("accounts.urls")),
    path("api/", include("properties.urls")),
    path("api/", include("calendars.urls")),
    path("api/", include("rates.urls")),
    path("api/", include("calendars.ical_urls")),
    path("api/", include("bookings.urls")),
    path("api/", include("photos.urls")),
    # Uploaded photos on the local file system (photos/views.py); with S3 the store serves them.
    path("media/<path:name>", media_file, name="media"),
    # Last: any other /api/ URL is a JSON 404, even with DEBUG on.
    re_path(r"^api/", core_views.api_not_found),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
