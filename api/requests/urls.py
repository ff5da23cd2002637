"""/api/v1/requests/…"""

from django.urls import path

from api import converters as api_converters  # noqa: F401  (registers <request_action:...>)
from api.requests import views
from requests_portal import converters as request_converters  # noqa: F401  (registers <number:...>)

urlpatterns = [
    path("requests/", views.RequestList.as_view(), name="requests"),
    path("requests/<number:number>/", views.RequestRead.as_view(), name="request"),
    path(
        "requests/<number:number>/messages/",
        views.RequestMessages.as_view(),
        name="request_messages",
    ),
    path(
        "requests/<number:number>/timeline/",
        views.RequestTimeline.as_view(),
        name="request_timeline",
    ),
    path(
        "requests/<number:number>/actions/<request_action:action>/",
        views.RequestAction.as_view(),
        name="request_action",
    ),
]
