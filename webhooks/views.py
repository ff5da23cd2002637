"""The agency admins' webhook pages: the addresses, adding one (its secret shown once), a
delivery log per address, turning one off, removing it, a new secret, sending again."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import mark_sent, once_per_form
from webhooks import access, services
from webhooks.forms import EndpointForm
from webhooks.models import EventType


def _list_page(request, form=None, status=200):
    endpoints = access.endpoints_for(request.user, request.agency)
    counts = access.delivery_states(endpoints)
    labels = dict(EventType.choices)
    rows = [
        {
            "endpoint": endpoint,
            "events": [str(labels.get(code, code)) for code in endpoint.events],
            "counts": counts.get(endpoint.pk, {}),
        }
        for endpoint in endpoints
    ]
    return render(
        request,
        "webhooks/list.html",
        {"rows": rows, "form": form or EndpointForm()},
        status=status,
    )


def _secret_page(request, endpoint, secret, *, new):
    mark_sent(request)
    response = render(
        request, "webhooks/secret.html", {"endpoint": endpoint, "secret": secret, "new": new}
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _detail_url(request: HttpRequest, endpoint_id: int) -> str:
    return reverse("staff:webhook_detail", kwargs={"endpoint_id": endpoint_id})


def _list_url(request: HttpRequest) -> str:
    return reverse("staff:webhook_list")


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.WEBHOOKS_MANAGE)
@once_per_form(replay_to=_list_url)
def webhook_list(request):
    if request.method != "POST":
        return _list_page(request)
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    try:
        endpoint, secret = services.endpoint_create(
            agency=request.agency, actor=request.user, http_request=request, **form.cleaned()
        )
    except services.WebhookError as error:
        form.add_error(None, str(error))
        return _list_page(request, form, status=400)
    return _secret_page(request, endpoint, secret, new=True)


@require_safe
@agency_permission(policy.WEBHOOKS_MANAGE)
def webhook_detail(request, endpoint_id):
    endpoint = access.endpoint_for(request.user, request.agency, endpoint_id)
    labels = dict(EventType.choices)
    return render(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "events": [str(labels.get(code, code)) for code in endpoint.events],
            "deliveries": access.deliveries_of(endpoint),
            "log_length": access.LOG_LENGTH,
        },
    )


@require_POST
@agency_permission(policy.WEBHOOKS_MANAGE)
@once_per_form
def webhook_active(request, endpoint_id):
    endpoint = access.endpoint_for(request.user, request.agency, endpoint_id)
    services.endpoint_set_active(
        endpoint=endpoint, active=not endpoint.is_active, actor=request.user, http_request=request
    )
    if endpoint.is_active:
        messages.success(request, gettext("The address is turned off: nothing is sent to it."))
    else:
        messages.success(request, gettext("The address is turned on again."))
    return redirect("staff:webhook_detail", endpoint_id=endpoint.pk)


@require_POST
@agency_permission(policy.WEBHOOKS_MANAGE)
def webhook_delete(request, endpoint_id):
    endpoint = access.endpoint_for(request.user, request.agency, endpoint_id)
    services.endpoint_delete(endpoint=endpoint, actor=request.user, http_request=request)
    messages.success(request, gettext("The address and its delivery log are removed."))
    return redirect("staff:webhook_list")


@require_POST
@agency_permission(policy.WEBHOOKS_MANAGE)
@once_per_form(replay_to=_detail_url)
def webhook_rotate(request, endpoint_id):
    endpoint = access.endpoint_for(request.user, request.agency, endpoint_id)
    secret = services.endpoint_rotate_secret(
        endpoint=endpoint, actor=request.user, http_request=request
    )
    return _secret_page(request, endpoint, secret, new=False)


@require_POST
@agency_permission(policy.WEBHOOKS_MANAGE)
@once_per_form
def webhook_resend(request, delivery_id):
    delivery = access.delivery_for(request.user, request.agency, delivery_id)
    try:
        services.delivery_resend(delivery=delivery, actor=request.user, http_request=request)
    except services.WebhookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, gettext("The event is being sent again."))
    return redirect("staff:webhook_detail", endpoint_id=delivery.endpoint_id)
