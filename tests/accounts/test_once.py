"""The one-time form token itself (accounts.once): what is refused and how, what a failed
post leaves, what counts as the same submission, whose token it is, and its forgetting.
The closure-reason form stands for every guarded form (tests/test_once_forms.py sends each).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core import signing
from django.http import HttpResponseRedirect
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import once, tasks
from accounts.models import Agency, FormSubmission, Membership, PendingSignup
from accounts.tenancy import agency_context
from requests_portal.models import ClosureReason
from tests.db_helpers import run_in_committed_thread
from tests.form_helpers import form_values, token_of

pytestmark = pytest.mark.django_db

PAGE = "/staff/settings/closure-reasons/"


def browser(client_for, user, host):
    """A client that enforces CSRF (and so the one-time token) as the real server does."""
    client = client_for(user, host)
    client.handler.enforce_csrf_checks = True
    return client


def reasons(tenant, name: str) -> int:
    with agency_context(tenant.agency):
        return ClosureReason.objects.filter(agency=tenant.agency, name=name).count()


def blank_form(client) -> dict:
    return form_values(client.get(reverse("staff:closure_reasons")), PAGE)


def test_the_page_gives_each_form_a_fresh_token(tenant, client_for):
    client = browser(client_for, tenant.admin, tenant.host)
    assert token_of(blank_form(client)) != token_of(blank_form(client))


@pytest.mark.parametrize(
    "token",
    ["", "made-up", "x" * 40 + ":1vAbCd:forged-signature"],
    ids=["missing", "made-up", "forged"],
)
def test_a_missing_or_forged_token_is_refused_with_a_clear_page_and_nothing_saved(
    tenant, client_for, token
):
    client = browser(client_for, tenant.admin, tenant.host)
    values = {**blank_form(client), "name": "Duplicate", once.FIELD: token}
    response = client.post(PAGE, values)
    assert response.status_code == 400
    body = response.content.decode()
    assert "This form was not sent" in body
    assert "Reload the page" in body
    assert reasons(tenant, "Duplicate") == 0


def test_a_token_made_for_someone_else_is_refused(tenant, client_for):
    """Tokens are bound to the user (and the agency): another admin's form is not yours."""
    colleague = browser(client_for, tenant.admin, tenant.host)
    stolen = token_of(blank_form(colleague))
    with agency_context(tenant.agency):
        Membership.objects.filter(agency=tenant.agency, user=tenant.department_admin).update(
            role="admin"
        )
    other = browser(client_for, tenant.department_admin, tenant.host)
    values = {**blank_form(other), "name": "Borrowed", once.FIELD: stolen}
    response = other.post(PAGE, values)
    assert response.status_code == 400
    assert once.FORGED in response.content.decode()
    assert reasons(tenant, "Borrowed") == 0


def test_a_token_from_another_agencys_page_is_refused(tenant, other_tenant, client_for):
    factory_request = RequestFactory().get("/")
    factory_request.agency, factory_request.user = other_tenant.agency, tenant.admin
    elsewhere = once.new_token(factory_request)
    here = browser(client_for, tenant.admin, tenant.host)
    values = {**blank_form(here), "name": "Travelled", once.FIELD: elsewhere}
    assert here.post(PAGE, values).status_code == 400
    assert reasons(tenant, "Travelled") == 0


def test_an_expired_token_is_refused(tenant, client_for):
    request = RequestFactory().get("/")
    request.agency, request.user = tenant.agency, tenant.admin
    long_ago = time.time() - once.MAX_AGE.total_seconds() - 60
    with mock.patch.object(signing.time, "time", return_value=long_ago):
        old = once.new_token(request)
    client = browser(client_for, tenant.admin, tenant.host)
    response = client.post(PAGE, {**blank_form(client), "name": "Late", once.FIELD: old})
    assert response.status_code == 400
    assert once.EXPIRED in response.content.decode()
    assert reasons(tenant, "Late") == 0


def test_a_form_with_errors_does_not_use_up_its_token(tenant, client_for):
    client = browser(client_for, tenant.admin, tenant.host)
    values = blank_form(client)
    wrong = client.post(PAGE, {**values, "name": ""})
    assert wrong.status_code == 400
    assert "This field is required" in wrong.content.decode()
    with agency_context(tenant.agency):
        assert not FormSubmission.objects.exists()  # the claim went back with the failure

    fixed = client.post(PAGE, {**values, "name": "Fixed"})
    assert fixed.status_code == 302
    assert reasons(tenant, "Fixed") == 1
    with agency_context(tenant.agency):
        assert FormSubmission.objects.filter(agency=tenant.agency).count() == 1


def test_the_same_token_with_other_values_is_a_new_submission(tenant, client_for):
    """Back, change, send: the person meant a second one (only an exact repeat is replayed)."""
    client = browser(client_for, tenant.admin, tenant.host)
    values = blank_form(client)
    assert client.post(PAGE, {**values, "name": "First"}).status_code == 302
    assert client.post(PAGE, {**values, "name": "Second"}).status_code == 302
    assert reasons(tenant, "First") == reasons(tenant, "Second") == 1


def test_the_test_client_without_csrf_checks_posts_without_a_token(tenant, client_for):
    """As for Django's CSRF check: tests of other features need not fetch the form."""
    client = client_for(tenant.admin, tenant.host)
    assert client.post(PAGE, {"name": "Plain"}).status_code == 302
    assert reasons(tenant, "Plain") == 1


def test_another_agencys_sent_forms_are_invisible(tenant, other_tenant, client_for):
    client = browser(client_for, tenant.admin, tenant.host)
    assert client.post(PAGE, {**blank_form(client), "name": "Ours"}).status_code == 302
    with agency_context(other_tenant.agency):
        assert not FormSubmission.objects.exists()
    with agency_context(tenant.agency):
        assert FormSubmission.objects.count() == 1


def test_expired_claims_are_forgotten_by_the_hourly_upkeep(tenant, client_for):
    client = browser(client_for, tenant.admin, tenant.host)
    assert client.post(PAGE, {**blank_form(client), "name": "Kept"}).status_code == 302
    assert client.post(PAGE, {**blank_form(client), "name": "Old"}).status_code == 302
    with agency_context(tenant.agency):
        old = FormSubmission.objects.order_by("pk").last()
        FormSubmission.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - once.MAX_AGE - timedelta(minutes=1)
        )
    with mock.patch.object(tasks.forget_sent_forms, "delay") as sent:
        tasks.queue_upkeep(agency_id=None)
    assert mock.call(agency_id=tenant.agency.pk) in sent.call_args_list
    assert tasks.forget_sent_forms(agency_id=tenant.agency.pk) == 1
    with agency_context(tenant.agency):
        assert FormSubmission.objects.count() == 1


def test_signing_up_twice_sends_one_confirmation_on_an_agency_host_and_on_the_platform(
    tenant, client_for, settings
):
    for host in (tenant.host, settings.PORTAL_BASE_DOMAIN):
        client = browser(client_for, None, host)
        email = f"twice-{host.replace('.', '-')}@example.org"
        values = {
            **form_values(client.get(reverse("accounts:signup")), reverse("accounts:signup")),
            "email": email,
            "full_name": "Ann Resident",
            "password1": "a long and unusual passphrase 42",
            "password2": "a long and unusual passphrase 42",
        }
        first = client.post(reverse("accounts:signup"), values)
        assert first.status_code == 200
        assert "Check your email" in first.content.decode() or email in first.content.decode()
        again = client.post(reverse("accounts:signup"), values)
        assert again.status_code == 302
        assert again["Location"] == reverse("accounts:login")
        assert PendingSignup.objects.filter(email=email).count() == 1


def test_the_same_form_sent_at_the_same_moment_runs_its_view_once():
    """Posts racing (each in its own transaction, as the middleware runs them): the later
    ones wait on the claim's unique index until the first commits, then replay its result."""
    slug = f"once-{uuid.uuid4().hex[:10]}"
    # Committed rows outlive the test: an agency of its own, inactive (no host serves it).
    agency = run_in_committed_thread(
        lambda: Agency.objects.create(slug=slug, name=slug, is_active=False)
    )
    runs: list[int] = []

    @once.once_per_form
    def create(request):
        runs.append(1)
        time.sleep(0.3)  # the others arrive while this one holds its claim
        return HttpResponseRedirect("/made/1/")

    token_request = RequestFactory().get("/")
    token_request.agency, token_request.user = agency, AnonymousUser()
    token = once.new_token(token_request)
    senders = 3
    barrier = threading.Barrier(senders)
    outcomes: list = []

    def send():
        request = RequestFactory().post("/", {"name": "Raced", once.FIELD: token})
        request.agency, request.user = agency, AnonymousUser()
        request._messages = CookieStorage(request)
        barrier.wait(timeout=60)
        with agency_context(agency):
            response = create(request)
        return response.status_code, response["Location"], len(request._messages._queued_messages)

    def worker():
        try:
            outcomes.append(run_in_committed_thread(send))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            outcomes.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(runs) == 1
    assert sorted(outcomes) == [(302, "/made/1/", 0)] + [(302, "/made/1/", 1)] * (senders - 1)
