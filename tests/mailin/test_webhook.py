"""Mailgun's inbound webhook (/mail/inbound/mailgun/ on the platform's host): posts signed as
Mailgun signs them are read; anything else is refused with a 4xx and stores nothing."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from mailin.models import InboundMail
from requests_portal.models import Message
from tests.mailin.helpers import address_for, events, mailgun_post, reply_mime

URL = "/mail/inbound/mailgun/"


@pytest.fixture
def platform() -> Client:
    return Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)


def _post(client: Client, fields: dict):
    return client.post(URL, fields)


def _stored(records_request) -> tuple[int, int]:
    with agency_context(records_request.agency_id):
        return (
            Message.objects.filter(agency=records_request.agency_id).count(),
            InboundMail.objects.filter(agency=records_request.agency_id).count(),
        )


def _audit_count(agency) -> int:
    with agency_context(agency, platform=agency is None):
        return AuditEvent.objects.filter(agency=agency).count()


def _signed_reply(records_request, **override) -> dict:
    to = address_for(records_request)
    raw = reply_mime(to=to, sender="resident@example.org", body="Thanks, that helps.")
    return mailgun_post(raw, recipient=to, sender="resident@example.org", **override)


def test_a_correctly_signed_reply_lands_on_its_request(platform, tenant, records_request):
    response = _post(platform, _signed_reply(records_request))
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": True}
    assert _stored(records_request) == (1, 1)
    assert events(tenant.agency, "mail.accepted")[-1].details["channel"] == "webhook"


@pytest.mark.parametrize(
    "override",
    [
        {"signature": "0" * 64},
        {"signature": ""},
        {"key": "another-signing-key"},
    ],
    ids=["wrong-signature", "empty-signature", "other-key"],
)
def test_a_wrongly_signed_post_is_refused_and_nothing_is_stored(
    platform, tenant, records_request, override
):
    before = (_audit_count(tenant.agency), _audit_count(None))
    response = _post(platform, _signed_reply(records_request, **override))
    assert response.status_code == 403
    assert _stored(records_request) == (0, 0)
    assert (_audit_count(tenant.agency), _audit_count(None)) == before


def test_a_post_with_no_signature_fields_is_refused(platform, records_request):
    fields = _signed_reply(records_request)
    for name in ("signature", "timestamp", "token"):
        partial = {k: v for k, v in fields.items() if k != name}
        assert _post(platform, partial).status_code == 403
    assert _stored(records_request) == (0, 0)


def test_a_stale_or_repeated_post_is_refused(platform, records_request):
    stale = _signed_reply(records_request, timestamp=str(int(time.time()) - 3600))
    assert _post(platform, stale).status_code == 403
    fields = _signed_reply(records_request)
    assert _post(platform, fields).status_code == 200
    assert (
        _post(platform, fields).status_code == 403
    )  # the same signed post, captured and sent again
    assert _stored(records_request) == (1, 1)


def test_a_reply_refused_by_the_checks_is_a_406_and_audited(platform, tenant, records_request):
    to = address_for(records_request)
    raw = reply_mime(to=to, sender="someone@else.example")
    response = _post(platform, mailgun_post(raw, recipient=to, sender="someone@else.example"))
    assert response.status_code == 406
    assert response.json() == {"accepted": False, "reason": "wrong sender"}
    assert _stored(records_request) == (0, 0)
    assert events(tenant.agency, "mail.rejected")[-1].details["channel"] == "webhook"


@pytest.mark.parametrize(
    "override",
    [
        {"body-mime": ""},
        {"body-mime": "\x00\x01 not mime at all"},
        {"body-mime": "From: <<<\r\nTo: ???\r\nMessage-ID:\r\n\r\n"},
        {"event": "delivered"},
        {"attachments": "[]"},
        {"timestamp": "not-a-number"},
    ],
    ids=["empty", "binary", "broken-headers", "tracking-event", "store-route", "timestamp"],
)
def test_malformed_signed_posts_never_answer_500(platform, records_request, override):
    fields = _signed_reply(records_request, **override)
    response = _post(platform, fields)
    assert 400 <= response.status_code < 500, response.content
    assert _stored(records_request) == (0, 0)


def test_only_the_platform_host_and_only_when_set_up(client, tenant, records_request, settings):
    agency_host = Client(HTTP_HOST=tenant.host)
    assert _post(agency_host, _signed_reply(records_request)).status_code == 404
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": ""}
    platform = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    assert _post(platform, _signed_reply(records_request)).status_code == 404
    assert platform.get(URL).status_code == 405
    assert _stored(records_request) == (0, 0)
