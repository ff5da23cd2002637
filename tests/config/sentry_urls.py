"""A URL conf for tests/config/test_sentry.py only: a download link whose view fails while
it holds the request's secrets and a document's text."""

from django.urls import path
from django.views.decorators.http import require_http_methods


class DocumentUnreadable(Exception):
    pass


@require_http_methods(["GET", "POST"])
def failing_download(request, token):
    document_text = request.POST.get("text", "")  # noqa: F841 (what Sentry could read)
    raise DocumentUnreadable("the document could not be decrypted")


urlpatterns = [path("documents/download/<str:token>/", failing_download)]
