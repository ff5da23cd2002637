"""A throwaway URL configuration for tests/documents/test_upload.py: the project's URLs plus
the upload URL lists, mounted where documents/urls.py and config/urls.py will mount them
(until the lead does; once they are mounted there, this is config.urls unchanged)."""

from django.urls import include, path

from config import urls as config_urls
from documents.upload import views as upload_views
from documents.upload.urls import resident_upload_patterns, staff_upload_patterns


def _mounted(patterns) -> bool:
    for entry in patterns:
        if hasattr(entry, "url_patterns"):
            if _mounted(entry.url_patterns):
                return True
        elif getattr(entry.callback, "__module__", "") == upload_views.__name__:
            return True
    return False


if _mounted(config_urls.urlpatterns):
    urlpatterns = config_urls.urlpatterns
else:
    _staff = [
        *config_urls.staff_urlpatterns,
        path("requests/<number:number>/documents/", include(staff_upload_patterns)),
    ]
    urlpatterns = [
        *(p for p in config_urls.urlpatterns if str(p.pattern) != "staff/"),
        path("requests/<number:number>/documents/", include(resident_upload_patterns)),
        path("staff/", include((_staff, "staff"))),
    ]

handler403 = config_urls.handler403
handler404 = config_urls.handler404
handler500 = config_urls.handler500
