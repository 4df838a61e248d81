"""drf-spectacular's schema and docs views, answering errors in the API's JSON shape.

They render HTML or YAML, so a 405 would otherwise come back as a page or as YAML."""

from typing import Any

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class JSONErrorsMixin(APIView):
    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            # finalize_response set it for the first renderer; the stubs omit the attribute.
            response.renderer_context = self.get_renderer_context()  # type: ignore[attr-defined]
        return response


class SchemaView(JSONErrorsMixin, SpectacularAPIView):
    pass


# The pages may load only from this server: ReDoc's bundle always draws its vendor's logo from
# a CDN, and the browser must not even try. Inline scripts and styles are how both pages start
# and style themselves; ReDoc's search runs in a blob: worker.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    ]
)


class OfflinePageMixin(APIView):
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SwaggerView(OfflinePageMixin, JSONErrorsMixin, SpectacularSwaggerView):
    pass


class RedocView(OfflinePageMixin, JSONErrorsMixin, SpectacularRedocView):
    template_name = "core/redoc.html"  # without the Google Fonts links
