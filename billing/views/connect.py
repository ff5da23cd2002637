"""The agency's Stripe connection (admins: ``billing.settings``): connect with a restricted
key and the webhook's signing secret, see what is connected (the key's last four characters
only) and the webhook address to give Stripe, disconnect."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.decorators import agency_permission, require_recent_auth
from accounts.once import once_per_form
from accounts.tenancy import agency_origin
from billing import stripe_access
from billing.errors import BillingError
from billing.services import connect
from billing.stripe_forms import ConnectForm
from billing.views.stripe_common import agency_of, member


def webhook_url(request: HttpRequest) -> str:
    """Where Stripe sends this agency's events: its own host's endpoint."""
    return agency_origin(agency_of(request)) + reverse("billing:stripe_webhook")


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.BILLING_SETTINGS)
@require_recent_auth
@once_per_form
def stripe_connect(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request)
    account = stripe_access.stripe_account_for_settings(request.user, agency)
    form = ConnectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            connected = connect.stripe_connect(
                agency=agency,
                actor=member(request),
                api_key=form.cleaned_data["api_key"],
                webhook_secret=form.cleaned_data["webhook_secret"],
                http_request=request,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                gettext("Stripe account %(account)s connected: residents can pay by card.")
                % {"account": connected.display_name or connected.account_id},
            )
            return HttpResponseRedirect(reverse("billing:stripe_connect"))
    context = {
        "form": form,
        "account": account,
        "key_hint": connect.key_hint(account) if account is not None else "",
        "webhook_url": webhook_url(request),
    }
    return render(request, "billing/connect.html", context, status=400 if form.errors else 200)


@require_POST
@agency_permission(policy.BILLING_SETTINGS)
@require_recent_auth(return_to="billing:stripe_connect")
def stripe_disconnect(request: HttpRequest) -> HttpResponse:
    account = stripe_access.stripe_account_for_settings(request.user, agency_of(request))
    if account is not None:
        connect.stripe_disconnect(account=account, actor=member(request), http_request=request)
        messages.success(request, gettext("Stripe disconnected. Card payments are off."))
    return HttpResponseRedirect(reverse("billing:stripe_connect"))
