"""Stripe's webhook endpoint, one per agency (its own host's ``/billing/stripe/webhook/``).

Stripe posts JSON signed with the agency's webhook secret; the raw body is verified with the
stripe library's own verifier (billing.webhooks), stored once by event id and processed by a
task. Answers: 200 for an event stored (or already stored: a repeat is ignored), 400 for a
bad signature, a stale timestamp, a malformed event or one about another account or agency,
404 where the agency has no Stripe connected, 413 for an oversized body.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_access, webhooks
from billing.services import connect, stripe_webhooks
from billing.views.stripe_common import agency_of

logger = logging.getLogger(__name__)


# Exempt from CSRF: Stripe's servers post here without a browser session or token; what
# proves the post is Stripe's is the HMAC signature checked on the raw body below.
# nosemgrep: portal-csrf-exempt -- Stripe's server-to-server post; its signature authenticates it
@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = webhooks.MAX_BODY_BYTES + 1
    if length > webhooks.MAX_BODY_BYTES:
        return JsonResponse({"error": "too large"}, status=413)
    account = stripe_access.stripe_account(agency)
    if account is None:
        return JsonResponse({"error": "no Stripe account is connected here"}, status=404)
    payload = request.body
    try:
        event = webhooks.verify(
            payload=payload,
            header=request.headers.get("Stripe-Signature", ""),
            secret=connect.webhook_secret_of(account),
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
            account_id=account.account_id,
            agency_id=agency.pk,
        )
    except webhooks.Refused as refusal:
        logger.warning("stripe webhook refused: %s", str(refusal)[:200])
        if not str(refusal).startswith(("signature", "no Stripe-Signature")):
            stripe_webhooks.webhook_refused(
                agency=agency, event_type="", reason=str(refusal), http_request=request
            )
        return JsonResponse({"error": "refused"}, status=400)
    _, created = stripe_webhooks.webhook_receive(agency=agency, event=event, http_request=request)
    return JsonResponse({"received": True, "duplicate": not created})
