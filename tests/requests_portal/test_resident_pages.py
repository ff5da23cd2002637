"""Residents through the web UI: filing as a guest and following the tracking link, signed-in
residents' list, the form's refusals (honeypot, missing email, rate limits), and replies.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal import tracking
from requests_portal.models import (
    ClosureReason,
    Message,
    MessageKind,
    RecordsRequest,
    Visibility,
)
from requests_portal.services import lifecycle
from tests.factories import UserFactory
from tests.requests_portal.helpers import (
    PLAIN_REASON,
    body_of,
    emailed_link,
    file_request,
    form_data,
    mail_to,
    public_url,
    requests_of,
    set_request_settings,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


# --- Filing as a guest, and following with the tracking link ---------------------------------


@pytest.fixture
def private_by_default(tenant, other_tenant):
    """New requests are not public, so only the requester (or their link) can see them."""
    for each in (tenant, other_tenant):
        set_request_settings(each, default_visibility=Visibility.ALL_STAFF)


def test_guest_filing_redirects_to_the_request_page_with_its_tracking_token(
    tenant, private_by_default, client_for
):
    client = client_for(None, tenant.host)

    response = client.post(reverse("request_new"), form_data())

    assert response.status_code == 302
    [filed] = requests_of(tenant)
    target = urlsplit(response["Location"])
    assert target.path == public_url(filed)
    [token] = parse_qs(target.query)["t"]
    with agency_context(tenant.agency):
        assert tracking.request_id_from_tracking_token(token, tenant.agency) == filed.pk
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Your request was received" in body_of(page)
    assert filed.number in body_of(page)
    assert filed.title in body_of(page)


def test_guest_filing_emails_a_confirmation_with_the_number_and_tracking_link(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(None, tenant.host).post(reverse("request_new"), form_data())

    [filed] = requests_of(tenant)
    [email] = mail_to("ann@example.org")
    assert filed.number in email.subject
    assert filed.number in email.body
    link = urlsplit(re.search(r"https?://\S+", email.body).group())
    assert link.netloc == tenant.host
    assert link.path == public_url(filed)
    [token] = parse_qs(link.query)["t"]
    with agency_context(tenant.agency):
        assert tracking.request_id_from_tracking_token(token, tenant.agency) == filed.pk


def test_tracking_link_shows_the_request_to_a_client_that_is_not_signed_in(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    [filed] = requests_of(tenant)

    response = client_for(None, tenant.host).get(link)

    assert response.status_code == 200
    assert filed.number in body_of(response)
    assert filed.title in body_of(response)
    # The requester's own view: the reply form is there.
    assert reverse("request_reply", args=[filed.number]) in body_of(response)
    # Without the token the (non-public) request does not exist for this client.
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 404


def test_tampered_tracking_token_answers_404(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    assert client_for(None, tenant.host).get(link).status_code == 200
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")

    response = client_for(None, tenant.host).get(tampered)

    assert response.status_code == 404
    assert "Page not found" in body_of(response)


def test_tracking_token_of_one_request_does_not_open_another(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    emailed_link(tenant, client_for, django_capture_on_commit_callbacks, email="bob@example.org")
    first, second = requests_of(tenant)
    query = urlsplit(link).query
    assert client_for(None, tenant.host).get(f"{public_url(first)}?{query}").status_code == 200

    response = client_for(None, tenant.host).get(f"{public_url(second)}?{query}")

    assert response.status_code == 404


def test_tracking_link_on_another_agency_host_answers_404(
    tenant, other_tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = emailed_link(tenant, client_for, django_capture_on_commit_callbacks)

    response = client_for(None, other_tenant.host).get(link)

    assert response.status_code == 404
    assert "Page not found" in body_of(response)


# --- Signed-in residents -----------------------------------------------------------------------


def test_signed_in_resident_request_is_listed_on_their_requests_page_only(tenant, client_for):
    client = client_for(tenant.requester, tenant.host)
    data = form_data(title="Parking tickets issued on Elm St")
    del data["email"]  # signed in: updates go to the account's address

    response = client.post(reverse("request_new"), data)

    [filed] = requests_of(tenant)
    assert response.status_code == 302
    assert response["Location"] == public_url(filed)  # no token needed when signed in
    assert filed.requester_id == tenant.requester.pk
    assert filed.requester_email == tenant.requester.email
    mine = client.get(reverse("my_requests"))
    assert mine.status_code == 200
    assert filed.number in body_of(mine)
    assert "Parking tickets issued on Elm St" in body_of(mine)
    someone_else = client_for(UserFactory(), tenant.host).get(reverse("my_requests"))
    assert someone_else.status_code == 200
    assert "Parking tickets issued on Elm St" not in body_of(someone_else)


# --- Form refusals -------------------------------------------------------------------------------


def test_filled_honeypot_is_a_form_error_and_saves_nothing(
    tenant, client_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(None, tenant.host).post(
            reverse("request_new"), form_data(website="http://spam.example")
        )

    assert response.status_code == 400
    assert "This field must be left empty." in body_of(response)
    assert requests_of(tenant) == []
    assert mail.outbox == []


def test_missing_email_is_a_field_error_when_anonymous_filing_is_off(tenant, client_for):
    response = client_for(None, tenant.host).post(reverse("request_new"), form_data(email=""))

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["This field is required."]
    assert 'id="id_email_error"' in body_of(response)
    assert requests_of(tenant) == []


def test_field_error_is_tied_to_its_input_by_aria_describedby(tenant, client_for):
    response = client_for(None, tenant.host).post(reverse("request_new"), form_data(email=""))

    body = body_of(response)
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', body).group()
    described_by = re.search(r'aria-describedby="([^"]*)"', email_input).group(1).split()
    error_id = re.search(r'<p class="field-error" id="([^"]+)"', body).group(1)
    assert error_id in described_by
    assert all(f'id="{ref}"' in body for ref in described_by)


def test_email_less_request_is_accepted_when_the_agency_allows_anonymous_filing(
    tenant, client_for, django_capture_on_commit_callbacks
):
    set_request_settings(tenant, allow_anonymous=True)
    client = client_for(None, tenant.host)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("request_new"), form_data(email=""))

    assert response.status_code == 302
    [filed] = requests_of(tenant)
    assert filed.requester_id is None
    assert filed.requester_email == ""
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "no updates will be sent" in body_of(page)
    staff_addresses = {
        u.email for u in (tenant.admin, tenant.staff, tenant.publisher, tenant.department_admin)
    }
    assert all(set(m.to) <= staff_addresses for m in mail.outbox)  # staff notices only


def test_third_submission_from_one_ip_within_the_rate_is_refused_with_429(
    tenant, settings, client_for
):
    settings.REQUEST_SUBMIT_RATE_PER_IP = "2/d"
    client = client_for(None, tenant.host)
    for n in range(2):
        ok = client.post(reverse("request_new"), form_data(email=f"resident{n}@example.org"))
        assert ok.status_code == 302

    refused = client.post(reverse("request_new"), form_data(email="resident9@example.org"))

    assert refused.status_code == 429
    assert "You have sent several requests in a short time" in body_of(refused)
    assert len(requests_of(tenant)) == 2


def test_guest_replies_through_the_tracking_link_while_open(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    [filed] = requests_of(tenant)
    token = parse_qs(urlsplit(link).query)["t"][0]
    guest = client_for(None, tenant.host)

    response = guest.post(
        f"{reverse('request_reply', args=[filed.number])}?t={token}",
        {"body": "Paper copies are fine too."},
    )

    assert response.status_code == 302
    assert response["Location"] == link
    with agency_context(tenant.agency):
        [reply] = Message.objects.filter(request_id=filed.pk)
    assert (reply.kind, reply.author_id) == (MessageKind.FROM_REQUESTER, None)
    assert "Paper copies are fine too." in body_of(guest.get(link))
    staff_page = client_for(tenant.admin, tenant.host).get(staff_url("detail", filed))
    assert "Paper copies are fine too." in body_of(staff_page)
    # Without the token the guest is nobody to this request.
    refused = client_for(None, tenant.host).post(
        reverse("request_reply", args=[filed.number]), {"body": "Sneaky"}
    )
    assert refused.status_code == 404


def test_requester_cannot_message_a_closed_request(tenant, client_for):
    filed = file_request(tenant, requester=tenant.requester)
    with agency_context(tenant.agency):
        lifecycle.request_close(
            records_request=RecordsRequest.objects.get(pk=filed.pk),
            actor=tenant.publisher,
            reason=ClosureReason.objects.get(agency=tenant.agency, name=PLAIN_REASON),
        )
    client = client_for(tenant.requester, tenant.host)

    page = client.get(public_url(filed))
    response = client.post(reverse("request_reply", args=[filed.number]), {"body": "One more"})

    assert reverse("request_reply", args=[filed.number]) not in body_of(page)
    assert response.status_code == 302
    assert "A closed request cannot be messaged" in body_of(client.get(response["Location"]))
    with agency_context(tenant.agency):
        assert not Message.objects.filter(request_id=filed.pk).exists()


def test_someone_else_cannot_reply_to_a_public_request(tenant, client_for):
    filed = file_request(tenant, requester=tenant.requester)
    response = client_for(UserFactory(), tenant.host).post(
        reverse("request_reply", args=[filed.number]), {"body": "Not my request"}
    )
    assert response.status_code == 404
    with agency_context(tenant.agency):
        assert not Message.objects.filter(request_id=filed.pk).exists()
