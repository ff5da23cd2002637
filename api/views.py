"""The API's own pages: its schema (public, so clients can generate code) and its interactive
documentation (signed-in users; Swagger UI's assets served from this portal, no CDN, and its
start-up script a separate file so the Content-Security-Policy stays 'self')."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny, IsAuthenticated


class SchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"
