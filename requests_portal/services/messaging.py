"""Messages on a request (internal notes, to and from the requester, public notes) and the
emails to its requester, queued to leave only once the change they announce commits."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

import audit
from accounts import jobs, language
from accounts.local_time import showing_times_of
from accounts.models import User
from accounts.tenancy import agency_origin
from requests_portal import audit_events, notifications
from requests_portal.models import Message, MessageKind, RecordsRequest
from requests_portal.reply_address import reply_address
from requests_portal.services.changes import (
    add_timeline_event,
    locked,
    mark_responded,
    require_open,
)
from requests_portal.tracking import tracking_token


def _origin(records_request: RecordsRequest, http_request: HttpRequest | None) -> str:
    """Scheme and host for links in emails: the request's, or the agency's own address."""
    if http_request is not None:
        return f"{http_request.scheme}://{http_request.get_host()}"
    return agency_origin(records_request.agency)


def email_requester(
    records_request: RecordsRequest,
    template: str,
    *,
    http_request: HttpRequest | None = None,
    **extra: object,
) -> None:
    """Queue an email to the requester once the transaction commits."""
    if not records_request.requester_email:
        return
    path = reverse("request_detail", args=[records_request.number])
    link = f"{_origin(records_request, http_request)}{path}?t={tracking_token(records_request)}"
    context = {"r": records_request, "agency": records_request.agency, "link": link, **extra}
    # In the language the request was filed in, whatever the page that triggered it; times on
    # the agency's clock.
    with (
        translation.override(language.supported(records_request.language)),
        showing_times_of(records_request.agency),
    ):
        subject = render_to_string(f"requests_portal/email/{template}_subject.txt", context)
        body = render_to_string(f"requests_portal/email/{template}.txt", context)
        html = render_to_string(f"requests_portal/email/{template}.html", context)
    # A reply to this email lands on the request (mailin/): the address is signed for this
    # request and this recipient.
    reply_to = reply_address(
        agency_id=records_request.agency_id,
        request_id=records_request.pk,
        recipient_id=records_request.requester_id,
    )
    jobs.send_email(
        agency_id=records_request.agency_id,
        subject=" ".join(subject.split()),
        body=body,
        to=[records_request.requester_email],
        html_body=html,
        reply_to=[reply_to] if reply_to else None,
    )


@locked
def request_message(
    *,
    records_request: RecordsRequest,
    actor: User | None,
    kind: str,
    body: str,
    notify: list[User] | None = None,
    http_request: HttpRequest | None = None,
) -> Message:
    if kind != MessageKind.INTERNAL:
        require_open(records_request, "messaged")
    with transaction.atomic():
        message = Message.objects.create(
            agency=records_request.agency,
            request=records_request,
            kind=kind,
            author=actor,
            body=body,
        )
        labels = {
            MessageKind.INTERNAL: "Internal note added",
            MessageKind.TO_REQUESTER: "Message sent to the requester",
            MessageKind.FROM_REQUESTER: "Message from the requester",
            MessageKind.PUBLIC_NOTE: "Note added",
        }
        add_timeline_event(
            records_request,
            f"message_{kind}",
            actor,
            labels[MessageKind(kind)],
            public=kind != MessageKind.INTERNAL,
            data={"message": message.pk},
        )
        audit.record_for(
            audit_events.REQUEST_MESSAGED,
            records_request,
            actor=actor,
            http_request=http_request,
            kind=kind,
            message=message.pk,
        )
        if kind == MessageKind.TO_REQUESTER:
            mark_responded(records_request, message.created_at)
            email_requester(records_request, "message", http_request=http_request, message=message)
        elif kind == MessageKind.FROM_REQUESTER:
            notifications.notify_requester_message(
                records_request, message, http_request=http_request
            )
        elif kind == MessageKind.INTERNAL and notify:
            notifications.notify_internal_note(
                records_request, message, notify, http_request=http_request
            )
    return message
