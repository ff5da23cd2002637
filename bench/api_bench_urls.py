"""The portal's URLs plus the benchmark's bare DRF view (bench/api_bench_wsgi.py)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as portal_urlpatterns


class Hello(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"hello": "world"})


urlpatterns = [path("api/v1/bench-hello/", Hello.as_view()), *portal_urlpatterns]
