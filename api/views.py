"""The API's own pages: its schema (public, so clients can generate code) and its interactive
documentation (signed-in users; Swagger UI's assets served from this portal, no CDN, and its
start-up script a separate file so the Content-Security-Policy stays 'self')."""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import not_found_body


class SchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"


class NotFound(APIView):
    """Any other address under /api/v1/ (a malformed request number or id included): the
    API's 404 in its own error shape, whatever the method, never the web's HTML page."""

    permission_classes = [AllowAny]
    schema = None  # not an operation of the API

    def _answer(self, request, *args, **kwargs) -> Response:
        return Response(not_found_body(), status=status.HTTP_404_NOT_FOUND)

    get = post = put = patch = delete = head = options = _answer
