"""The mail provider's inbound webhook (Mailgun's forward() route), on the platform's host:
``/mail/inbound/mailgun/``.

django-anymail checks the post's signature (HMAC-SHA-256 of timestamp and token with the
webhook signing key) and parses the email; the view also refuses a timestamp older than
MAILIN_WEBHOOK_MAX_AGE and a token seen before (a captured post cannot be replayed), then
hands the email to mailin.services.inbound. Answers: 200 accepted; 406 refused (Mailgun does
not retry a 406; the reason is audited); 403 bad signature, stale or repeated post (nothing
stored); 400 a post that is not an inbound email; 404 off (no signing key) or on an agency's
host. Never a 500 for what a sender controls.
"""

from __future__ import annotations

import logging
import time
from email.errors import MessageError

from anymail.exceptions import AnymailError, AnymailWebhookValidationFailure
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mailin.models import Channel
from mailin.services import inbound

logger = logging.getLogger(__name__)


def _fresh_and_first(request: HttpRequest) -> bool:
    """The signed timestamp is recent and the signed token has not been used before."""
    try:
        timestamp = int(request.POST.get("timestamp", ""))
    except ValueError:
        return False
    if abs(time.time() - timestamp) > settings.MAILIN_WEBHOOK_MAX_AGE:
        return False
    token = request.POST.get("token", "")[:200]
    return cache.add(
        f"mailin:mailgun-token:{token}", 1, timeout=2 * settings.MAILIN_WEBHOOK_MAX_AGE
    )


# Exempt from CSRF: Mailgun's servers post here without a browser session or token; what
# proves the post is Mailgun's is the HMAC signature anymail checks before anything is read.
# nosemgrep: portal-csrf-exempt -- Mailgun's server-to-server post; its signature authenticates it
@csrf_exempt
@require_POST
def mailgun_inbound(request: HttpRequest) -> HttpResponse:
    if getattr(request, "agency", None) is not None:
        raise Http404  # the platform's host only
    if not settings.ANYMAIL.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
        raise Http404  # replies by email through Mailgun are not set up
    try:
        view = MailgunInboundWebhookView()
    except ImproperlyConfigured:
        raise Http404 from None
    try:
        view.run_validators(request)
    except AnymailWebhookValidationFailure:
        logger.warning("mailin: a Mailgun inbound post with a bad signature was refused")
        return JsonResponse({"error": "bad signature"}, status=403)
    if not _fresh_and_first(request):
        logger.warning("mailin: a stale or repeated Mailgun inbound post was refused")
        return JsonResponse({"error": "stale or repeated"}, status=403)
    try:
        events = view.parse_events(request)
    # The post is signed but not an inbound email anymail can read (a tracking event, a
    # store() route, a malformed field or MIME): a clear 400, never a 500.
    except (AnymailError, ImproperlyConfigured, MessageError, ValueError, LookupError, TypeError):
        logger.warning("mailin: a signed Mailgun post was not an inbound email")
        return JsonResponse({"error": "not an inbound email"}, status=400)
    results = [
        inbound.mail_receive(mail=event.message, channel=Channel.WEBHOOK, http_request=request)
        for event in events
        if event.message is not None
    ]
    if results and all(result.accepted for result in results):
        return JsonResponse({"accepted": True})
    reason = results[0].reason if results else "no email"
    return JsonResponse({"accepted": False, "reason": reason}, status=406)
