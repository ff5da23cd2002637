"""Records requests through the web UI: filing, following, the staff life cycle, visibility,
search, numbering, query discipline and outsiders.

Rows are created with the services inside ``agency_context`` (row-level security hides them
otherwise); behaviour is exercised through the test client, as residents and staff use it.
"""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Agency
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal import deadlines, services, tracking
from requests_portal.models import (
    ClosureReason,
    Department,
    DepartmentMember,
    Message,
    MessageKind,
    RecordsRequest,
    RequestDepartment,
    RequestSettings,
    Status,
    TimelineEvent,
    Visibility,
)
from tests.db_helpers import run_in_committed_thread
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
CITATION_REASON = "Denied: an exemption applies"
PLAIN_REASON = "Records released in full"


# --- Fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def agency_defaults(tenant, other_tenant):
    """Deadline settings, closure reasons and holidays for both agencies."""
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            services.agency_setup_defaults(agency=each.agency, state="CA")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The submission rate limits count in the cache; no test inherits another's count."""
    cache.clear()
    yield
    cache.clear()


def set_request_settings(tenant, **changes) -> None:
    with agency_context(tenant.agency):
        RequestSettings.objects.filter(agency=tenant.agency).update(**changes)


def file_request(
    tenant,
    *,
    title: str = "Council minutes 2025",
    description: str = "The minutes of every council meeting in 2025.",
    visibility: str | None = None,
    requester=None,
    name: str = "",
    email: str = "",
    department: Department | None = None,
    point_of_contact=None,
) -> RecordsRequest:
    """A web request filed through the service (``requester``: signed in, else a guest)."""
    with agency_context(tenant.agency):
        records_request = services.request_submit(
            agency=tenant.agency,
            actor=requester,
            title=title,
            description=description,
            contact=services.Contact(name=name, email=email),
            department=department,
            channel="web",
        )
        changes = {}
        if visibility is not None:
            changes["visibility"] = visibility
        if point_of_contact is not None:
            changes["point_of_contact"] = point_of_contact
        if changes:
            RecordsRequest.objects.filter(pk=records_request.pk).update(**changes)
        return RecordsRequest.objects.get(pk=records_request.pk)


def reload(tenant, records_request) -> RecordsRequest:
    with agency_context(tenant.agency):
        return RecordsRequest.objects.get(pk=records_request.pk)


def requests_of(tenant) -> list[RecordsRequest]:
    with agency_context(tenant.agency):
        return list(RecordsRequest.objects.filter(agency=tenant.agency).order_by("sequence"))


def department(tenant, name: str = "Clerk") -> Department:
    with agency_context(tenant.agency):
        found, _ = Department.objects.get_or_create(agency=tenant.agency, name=name)
        return found


def add_to_department(tenant, user, dept: Department, *, point_of_contact=False) -> None:
    with agency_context(tenant.agency):
        DepartmentMember.objects.create(
            agency=tenant.agency, department=dept, user=user, is_point_of_contact=point_of_contact
        )


def closure_reason(tenant, name: str) -> ClosureReason:
    with agency_context(tenant.agency):
        return ClosureReason.objects.get(agency=tenant.agency, name=name)


def request_audit_events(tenant, records_request) -> list[AuditEvent]:
    """The request.* events about this request, oldest first (page views left out)."""
    with agency_context(tenant.agency):
        return list(
            AuditEvent.objects.filter(
                agency=tenant.agency,
                action__startswith="request.",
                target_id=str(records_request.pk),
            ).order_by("id")
        )


def staff_url(action: str, records_request) -> str:
    return reverse(f"staff:request_{action}", args=[records_request.number])


def public_url(records_request) -> str:
    return reverse("request_detail", args=[records_request.number])


def form_data(**overrides) -> dict:
    data = {
        "title": "Police reports for 100 Main St",
        "description": "All incident reports for 100 Main St, March 2026.",
        "delivery": "electronic",
        "name": "Ann Resident",
        "email": "ann@example.org",
        "phone": "",
        "address": "",
        "website": "",
    }
    data.update(overrides)
    return data


def mail_to(address: str) -> list:
    """Emails sent to ``address`` (staff notices about the same events go to staff)."""
    return [m for m in mail.outbox if address in m.to]


def body_of(response) -> str:
    return response.content.decode()


def calendar_of(tenant) -> deadlines.AgencyCalendar:
    with agency_context(tenant.agency):
        return services.calendar_for(tenant.agency, services.settings_for(tenant.agency))


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


def _emailed_link(tenant, client_for, django_capture_on_commit_callbacks, **data) -> str:
    data = form_data(**data)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(None, tenant.host).post(reverse("request_new"), data)
    link = urlsplit(re.search(r"https?://\S+", mail_to(data["email"])[-1].body).group())
    assert link.path.startswith("/requests/")
    return f"{link.path}?{link.query}"


def test_tracking_link_shows_the_request_to_a_client_that_is_not_signed_in(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = _emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
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
    link = _emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    assert client_for(None, tenant.host).get(link).status_code == 200
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")

    response = client_for(None, tenant.host).get(tampered)

    assert response.status_code == 404
    assert "Page not found" in body_of(response)


def test_tracking_token_of_one_request_does_not_open_another(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = _emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
    _emailed_link(tenant, client_for, django_capture_on_commit_callbacks, email="bob@example.org")
    first, second = requests_of(tenant)
    query = urlsplit(link).query
    assert client_for(None, tenant.host).get(f"{public_url(first)}?{query}").status_code == 200

    response = client_for(None, tenant.host).get(f"{public_url(second)}?{query}")

    assert response.status_code == 404


def test_tracking_link_on_another_agency_host_answers_404(
    tenant, other_tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = _emailed_link(tenant, client_for, django_capture_on_commit_callbacks)

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


# --- Escaping ------------------------------------------------------------------------------------


@pytest.fixture
def script_request(tenant):
    return file_request(tenant, title=SCRIPT, description=f"Records about {SCRIPT} please")


@pytest.mark.parametrize(
    ("page", "who"),
    [
        ("request_page", None),
        ("archive", None),
        ("staff_queue", "admin"),
        ("staff_detail", "admin"),
    ],
)
def test_script_in_title_and_description_is_shown_escaped(
    page, who, tenant, script_request, client_for
):
    url = {
        "request_page": public_url(script_request),
        "archive": reverse("archive"),
        "staff_queue": reverse("staff:request_queue"),
        "staff_detail": staff_url("detail", script_request),
    }[page]
    user = getattr(tenant, who) if who else None

    response = client_for(user, tenant.host).get(url)

    assert response.status_code == 200
    body = body_of(response)
    assert ESCAPED_SCRIPT in body
    assert "<script>alert" not in body


# --- Numbers -------------------------------------------------------------------------------------


def test_first_two_requests_of_the_year_are_numbered_1_and_2_in_each_agency(
    tenant, other_tenant, client_for
):
    for each in (tenant, other_tenant):
        for n in range(2):
            response = client_for(None, each.host).post(
                reverse("request_new"), form_data(email=f"r{n}@{each.agency.slug}.example")
            )
            assert response.status_code == 302

    for each in (tenant, other_tenant):
        first, second = requests_of(each)
        year = first.day_zero.year
        assert year in (timezone.now().year, timezone.now().year + 1)  # after the cut-off
        assert (first.number, second.number) == (f"{year % 100:02d}-1", f"{year % 100:02d}-2")


def test_concurrent_submissions_get_distinct_consecutive_numbers():
    # Rows committed from other threads outlive the test: an agency of its own, inactive.
    slug = f"numbers-{uuid.uuid4().hex[:10]}"

    def create_agency():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            services.agency_setup_defaults(agency=agency, state="CA")
        return agency

    agency = run_in_committed_thread(create_agency)
    submitters = 8
    barrier = threading.Barrier(submitters)
    outcomes: list = []

    def submit(n: int):
        barrier.wait(timeout=60)
        with agency_context(agency):
            filed = services.request_submit(
                agency=agency,
                actor=None,
                title=f"Concurrent request {n}",
                description="Filed at the same moment as seven others.",
                contact=services.Contact(name=f"Resident {n}"),
                channel="web",
            )
        return filed.year, filed.sequence

    def worker(n: int):
        try:
            outcomes.append(run_in_committed_thread(lambda: submit(n)))
        except BaseException as exc:  # noqa: BLE001 (reported below)
            outcomes.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(submitters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    assert len({year for year, _ in outcomes}) == 1
    assert sorted(sequence for _, sequence in outcomes) == list(range(1, submitters + 1))
    with agency_context(agency):
        stored = sorted(
            RecordsRequest.objects.filter(agency=agency).values_list("sequence", flat=True)
        )
    assert stored == list(range(1, submitters + 1))


# --- The staff life cycle --------------------------------------------------------------------


def test_publisher_works_a_request_through_its_whole_life_cycle(
    tenant, settings, client_for, django_capture_on_commit_callbacks
):
    settings.SESSION_COOKIE_AGE = 30 * 24 * 60 * 60  # the clock jumps a week ahead below
    filed = file_request(tenant, requester=tenant.requester, title="Bridge inspection reports")
    staff = client_for(tenant.publisher, tenant.host)
    requester = client_for(tenant.requester, tenant.host)
    clerk = department(tenant)
    calendar = calendar_of(tenant)
    seen_events = [e.action for e in request_audit_events(tenant, filed)]
    assert seen_events == ["request.submitted"]

    def post(action, data=None, *, status=302):
        with django_capture_on_commit_callbacks(execute=True):
            response = staff.post(staff_url(action, filed), data or {})
        assert response.status_code == status, body_of(response)
        if status == 302:
            assert response["Location"] == staff_url("detail", filed)
        return response

    def new_audit_actions() -> list[str]:
        events = request_audit_events(tenant, filed)[len(seen_events) :]
        assert all(e.actor_id == tenant.publisher.pk for e in events)
        seen_events.extend(e.action for e in events)
        return [e.action for e in events]

    def timeline_kinds() -> list[str]:
        with agency_context(tenant.agency):
            return list(
                TimelineEvent.objects.filter(request_id=filed.pk).values_list("kind", flat=True)
            )

    mail.outbox.clear()

    # Acknowledge.
    post("acknowledge")
    assert reload(tenant, filed).status == Status.OPEN
    assert new_audit_actions() == ["request.acknowledged"]

    # Route to the Clerk department, with a point of contact.
    post(
        "route",
        {
            "route-departments": [clerk.pk],
            "route-lead": clerk.pk,
            "route-point_of_contact": str(tenant.staff.pk),
        },
    )
    routed = reload(tenant, filed)
    assert routed.point_of_contact_id == tenant.staff.pk
    with agency_context(tenant.agency):
        links = list(RequestDepartment.objects.filter(request_id=filed.pk))
    assert [(link.department_id, link.is_lead) for link in links] == [(clerk.pk, True)]
    assert new_audit_actions() == ["request.routed"]

    # Internal note: staff only.
    post("message", {"kind": "internal", "body": "Ask facilities for the basement boxes."})
    assert "Ask facilities for the basement boxes." in body_of(
        staff.get(staff_url("detail", filed))
    )
    requester_page = body_of(requester.get(public_url(filed)))
    assert "Ask facilities for the basement boxes." not in requester_page
    assert "Internal note added" not in requester_page
    public_page = body_of(client_for(None, tenant.host).get(public_url(filed)))
    assert "Ask facilities for the basement boxes." not in public_page
    assert mail_to(tenant.requester.email) == []
    assert new_audit_actions() == ["request.messaged"]

    # Message to the requester: on their page, and emailed.
    post("message", {"kind": "to_requester", "body": "Which years do you need?"})
    assert "Which years do you need?" in body_of(requester.get(public_url(filed)))
    [email] = mail_to(tenant.requester.email)
    assert "Which years do you need?" in email.body
    assert new_audit_actions() == ["request.messaged"]

    # The requester replies while the request is open.
    response = requester.post(
        reverse("request_reply", args=[filed.number]), {"body": "2019 to 2024, please."}
    )
    assert response.status_code == 302
    assert "2019 to 2024, please." in body_of(staff.get(staff_url("detail", filed)))
    with agency_context(tenant.agency):
        assert Message.objects.filter(request_id=filed.pk, kind=MessageKind.FROM_REQUESTER).exists()
    seen_events.extend(e.action for e in request_audit_events(tenant, filed)[len(seen_events) :])

    # Pause with a reason: paused, the days left shown.
    due_before_pause = reload(tenant, filed).due_date
    post("pause", {"pause-reason": "Waiting for the requester to narrow the dates"})
    paused = reload(tenant, filed)
    assert paused.status == Status.PAUSED
    assert paused.remaining_days == deadlines.remaining_days(
        timezone.now(), due_before_pause, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert paused.remaining_days > 0
    assert f"Paused, {paused.remaining_days} days left" in body_of(
        staff.get(staff_url("detail", filed))
    )
    assert f"{paused.remaining_days} days will remain" in body_of(requester.get(public_url(filed)))
    assert new_audit_actions() == ["request.paused"]

    # Resume a week later: the due date is recomputed from the days that remained.
    a_week_later = timezone.now() + datetime.timedelta(days=7)
    with mock.patch("django.utils.timezone.now", return_value=a_week_later):
        post("resume")
    resumed = reload(tenant, filed)
    expected_due = deadlines.resume(
        a_week_later, paused.remaining_days, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert resumed.status == Status.OPEN
    assert resumed.due_date == expected_due
    assert resumed.due_date > due_before_pause
    assert timeline_kinds()[-1] == "resumed"
    assert new_audit_actions() == ["request.due_date_changed"]

    # Extend by 5 days with a reason: the timeline says who and why; the requester is told.
    mail.outbox.clear()
    post("extend", {"extend-days": "5", "extend-reason": "Boxes are in off-site storage"})
    extended = reload(tenant, filed)
    assert extended.due_date == deadlines.extend(
        resumed.due_date, 5, deadlines.CountingMethod.BUSINESS, calendar
    )
    with agency_context(tenant.agency):
        entry = TimelineEvent.objects.filter(request_id=filed.pk).order_by("id").last()
    assert entry.kind == "extended"
    assert entry.actor_id == tenant.publisher.pk
    assert entry.data["reason"] == "Boxes are in off-site storage"
    assert entry.is_public
    staff_page = body_of(staff.get(staff_url("detail", filed)))
    # Who and why, on one timeline line of the staff page.
    assert f"· {tenant.publisher.email}</span> Extended by 5 days: Boxes are in off-site" in (
        staff_page
    )
    assert "Extended by 5 days: Boxes are in off-site storage" in body_of(
        requester.get(public_url(filed))
    )
    [email] = mail_to(tenant.requester.email)
    assert "by 5 days" in email.body
    assert "Boxes are in off-site storage" in email.body
    assert new_audit_actions() == ["request.due_date_changed"]

    # Close with a reason that needs a citation, without one: refused, still open.
    mail.outbox.clear()
    needs_citation = closure_reason(tenant, CITATION_REASON)
    response = post("close", {"close-reason": needs_citation.pk}, status=400)
    assert "needs the exemption it relies on" in body_of(response)
    assert response.context["forms"]["close"].errors["citation"]
    assert reload(tenant, filed).status == Status.OPEN
    assert mail_to(tenant.requester.email) == []
    assert new_audit_actions() == []

    # Close with the citation: closed, the requester told.
    post("close", {"close-reason": needs_citation.pk, "close-citation": "Gov. Code 7927.705"})
    closed = reload(tenant, filed)
    assert closed.status == Status.CLOSED
    assert closed.closure_reason_id == needs_citation.pk
    assert closed.closure_citation == "Gov. Code 7927.705"
    [email] = mail_to(tenant.requester.email)
    assert filed.number in email.subject
    assert new_audit_actions() == ["request.closed"]

    # Reopen.
    post("reopen", {"reopen-reason": "The requester found more records to ask about"})
    reopened = reload(tenant, filed)
    assert reopened.status == Status.OPEN
    assert reopened.closed_at is None
    assert timeline_kinds()[-1] == "reopened"
    assert new_audit_actions() == ["request.reopened"]


def test_each_staff_step_records_one_audit_event_in_the_web_request_transaction(tenant, client_for):
    # The action's event and the page-view event of the same POST carry one request id: both
    # were written by the one transaction TenantContextMiddleware opens for the request.
    filed = file_request(tenant)
    client_for(tenant.publisher, tenant.host).post(staff_url("acknowledge", filed))

    [event] = [e for e in request_audit_events(tenant, filed) if e.action != "request.submitted"]
    with agency_context(tenant.agency):
        view = AuditEvent.objects.get(
            agency=tenant.agency, action="page.view", details__method="POST"
        )
    assert event.action == "request.acknowledged"
    assert event.request_id and event.request_id == view.request_id
    assert view.details["status"] == 302


def _fail_request_audit(action, **kwargs):
    raise RuntimeError(f"audit refused {action}")


@pytest.mark.parametrize(
    ("step", "call"),
    [
        (
            "acknowledge",
            lambda r, t: services.request_acknowledge(records_request=r, actor=t.publisher),
        ),
        (
            "pause",
            lambda r, t: services.request_pause(records_request=r, actor=t.publisher, reason="x"),
        ),
        (
            "extend",
            lambda r, t: services.request_extend(
                records_request=r, actor=t.publisher, days=5, reason="x"
            ),
        ),
        (
            "message",
            lambda r, t: services.request_message(
                records_request=r, actor=t.publisher, kind="to_requester", body="x"
            ),
        ),
        (
            "close",
            lambda r, t: services.request_close(
                records_request=r,
                actor=t.publisher,
                reason=ClosureReason.objects.get(agency=t.agency, name=PLAIN_REASON),
            ),
        ),
    ],
)
def test_a_step_whose_audit_event_fails_leaves_no_trace(
    step, call, tenant, django_capture_on_commit_callbacks
):
    filed = file_request(tenant, email="ann@example.org")
    mail.outbox.clear()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        agency_context(tenant.agency),
    ):
        before = (
            TimelineEvent.objects.filter(request_id=filed.pk).count(),
            Message.objects.filter(request_id=filed.pk).count(),
        )
        with (
            mock.patch("audit.record", side_effect=_fail_request_audit),
            pytest.raises(RuntimeError, match="audit refused"),
        ):
            call(RecordsRequest.objects.get(pk=filed.pk), tenant)
        # Still inside the caller's transaction, which goes on: only the service's own
        # transaction may have undone the step.
        after = RecordsRequest.objects.get(pk=filed.pk)
        assert (after.status, after.due_date, after.closed_at) == (
            filed.status,
            filed.due_date,
            None,
        )
        assert before == (
            TimelineEvent.objects.filter(request_id=filed.pk).count(),
            Message.objects.filter(request_id=filed.pk).count(),
        )
    assert callbacks == []  # no email queued
    assert mail.outbox == []


def test_guest_replies_through_the_tracking_link_while_open(
    tenant, private_by_default, client_for, django_capture_on_commit_callbacks
):
    link = _emailed_link(tenant, client_for, django_capture_on_commit_callbacks)
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
        services.request_close(
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


# --- What the staff role may not do ----------------------------------------------------------


def test_staff_role_cannot_message_the_requester(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = file_request(tenant, email="ann@example.org")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(tenant.staff, tenant.host).post(
            staff_url("message", filed), {"kind": "to_requester", "body": "Hello from staff"}
        )

    assert response.status_code == 400
    assert "Select a valid choice" in body_of(response)
    with agency_context(tenant.agency):
        assert not Message.objects.filter(request_id=filed.pk).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("pause", {"pause-reason": "Waiting"}),
        ("extend", {"extend-days": "5", "extend-reason": "Busy"}),
        ("close", {"close-reason": "placeholder"}),
        ("acknowledge", {}),
    ],
)
def test_staff_role_gets_403_on_publisher_actions(action, data, tenant, client_for):
    filed = file_request(tenant)
    if action == "close":
        data = {"close-reason": closure_reason(tenant, PLAIN_REASON).pk}

    response = client_for(tenant.staff, tenant.host).post(staff_url(action, filed), data)

    assert response.status_code == 403
    after = reload(tenant, filed)
    assert (after.status, after.due_date) == (Status.SUBMITTED, filed.due_date)
    assert [e.action for e in request_audit_events(tenant, filed)] == ["request.submitted"]


def test_staff_role_can_add_an_internal_note(tenant, client_for):
    filed = file_request(tenant)

    response = client_for(tenant.staff, tenant.host).post(
        staff_url("message", filed), {"kind": "internal", "body": "Checked the archive room."}
    )

    assert response.status_code == 302
    with agency_context(tenant.agency):
        [note] = Message.objects.filter(request_id=filed.pk)
    assert (note.kind, note.author_id) == (MessageKind.INTERNAL, tenant.staff.pk)


# --- Visibility --------------------------------------------------------------------------------


def test_restricted_request_is_hidden_from_staff_who_are_not_its_point_of_contact(
    tenant, client_for
):
    filed = file_request(tenant, visibility=Visibility.RESTRICTED, title="Internal affairs file")
    url = staff_url("detail", filed)

    assert client_for(tenant.staff, tenant.host).get(url).status_code == 404
    assert client_for(tenant.publisher, tenant.host).get(url).status_code == 404
    assert client_for(tenant.admin, tenant.host).get(url).status_code == 200
    queue = body_of(client_for(tenant.staff, tenant.host).get(reverse("staff:request_queue")))
    assert "Internal affairs file" not in queue


def test_restricted_request_is_visible_to_its_point_of_contact(tenant, client_for):
    filed = file_request(tenant, visibility=Visibility.RESTRICTED, point_of_contact=tenant.staff)
    response = client_for(tenant.staff, tenant.host).get(staff_url("detail", filed))
    assert response.status_code == 200


def test_department_request_is_visible_to_its_department_members_and_admins_only(
    tenant, client_for
):
    clerk = department(tenant)
    police = department(tenant, "Police")
    add_to_department(tenant, tenant.staff, clerk)
    add_to_department(tenant, tenant.publisher, police)
    add_to_department(tenant, tenant.department_admin, police)
    filed = file_request(tenant, visibility=Visibility.DEPARTMENT, department=clerk)
    url = staff_url("detail", filed)

    assert client_for(tenant.staff, tenant.host).get(url).status_code == 200
    assert client_for(tenant.admin, tenant.host).get(url).status_code == 200
    assert client_for(tenant.publisher, tenant.host).get(url).status_code == 404
    assert client_for(tenant.department_admin, tenant.host).get(url).status_code == 404


def test_public_archive_lists_only_published_requests_without_requester_identity(
    tenant, client_for
):
    published = file_request(
        tenant,
        title="Published: street tree inventory",
        name="Zelda Quux",
        email="zelda.quux@example.org",
    )
    hidden_titles = []
    for visibility in (
        Visibility.EMBARGOED,
        Visibility.ALL_STAFF,
        Visibility.DEPARTMENT,
        Visibility.RESTRICTED,
    ):
        title = f"Hidden: {visibility} request"
        file_request(tenant, title=title, visibility=visibility)
        hidden_titles.append(title)
    client = client_for(None, tenant.host)

    archive = body_of(client.get(reverse("archive")))
    detail = body_of(client.get(public_url(published)))

    assert "Published: street tree inventory" in archive
    assert not [t for t in hidden_titles if t in archive]
    assert "1 request." in archive
    for page in (archive, detail):
        assert "Zelda" not in page
        assert "Quux" not in page
        assert "zelda.quux@example.org" not in page


def test_embargoed_closed_request_becomes_public_only_after_its_public_from(tenant, client_for):
    set_request_settings(tenant, embargo_days=5)
    filed = file_request(tenant, title="Embargoed audit report", visibility=Visibility.EMBARGOED)
    client = client_for(None, tenant.host)
    assert client.get(public_url(filed)).status_code == 404  # open: not public

    with agency_context(tenant.agency):
        services.request_close(
            records_request=RecordsRequest.objects.get(pk=filed.pk),
            actor=tenant.publisher,
            reason=ClosureReason.objects.get(agency=tenant.agency, name=PLAIN_REASON),
        )
    public_from = reload(tenant, filed).public_from
    assert public_from > timezone.now() + datetime.timedelta(days=4)

    assert client.get(public_url(filed)).status_code == 404
    assert "Embargoed audit report" not in body_of(client.get(reverse("archive")))
    just_after = public_from + datetime.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=just_after):
        assert client.get(public_url(filed)).status_code == 200
        assert "Embargoed audit report" in body_of(client.get(reverse("archive")))


# --- Staff intake --------------------------------------------------------------------------


def _intake_data(**overrides) -> dict:
    data = {
        "title": "Building permits, 12 Oak Ave",
        "description": "Asked by phone: all permits since 2010.",
        "delivery": "electronic",
        "name": "Carl Caller",
        "email": "",
        "phone": "555-0100",
        "address": "",
        "channel": "phone",
    }
    data.update(overrides)
    return data


def test_staff_log_a_phone_request_with_a_past_received_date_as_day_zero(tenant, client_for):
    calendar = calendar_of(tenant)
    today = calendar.local_date(timezone.now())
    received_on = today - datetime.timedelta(days=10)

    response = client_for(tenant.staff, tenant.host).post(
        reverse("staff:request_new"), _intake_data(received_on=received_on.isoformat())
    )

    [filed] = requests_of(tenant)
    assert response.status_code == 302
    assert response["Location"] == staff_url("detail", filed)
    assert filed.channel == "phone"
    assert filed.day_zero == received_on
    assert calendar.local_date(filed.received_at) == received_on
    assert filed.due_date == deadlines.add_counting_days(
        received_on, 10, deadlines.CountingMethod.BUSINESS, calendar
    )
    assert filed.requester_phone == "555-0100"


def test_staff_log_with_a_future_received_date_is_a_field_error(tenant, client_for):
    tomorrow = calendar_of(tenant).local_date(timezone.now()) + datetime.timedelta(days=2)

    response = client_for(tenant.staff, tenant.host).post(
        reverse("staff:request_new"), _intake_data(received_on=tomorrow.isoformat())
    )

    assert response.status_code == 400
    assert response.context["form"].errors["received_on"] == [
        "The date received cannot be in the future."
    ]
    assert requests_of(tenant) == []


def test_staff_log_refuses_the_agency_local_tomorrow_in_the_evening(tenant, client_for):
    # "Future" is judged by the agency's calendar, not UTC's: 02:00 UTC is 21:00 or 22:00 the
    # evening before in New York (the agency's time zone), when UTC's today is its tomorrow.
    evening = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0)
    calendar = calendar_of(tenant)
    agency_tomorrow = calendar.local_date(evening) + datetime.timedelta(days=1)
    assert agency_tomorrow == evening.date()

    with mock.patch("django.utils.timezone.now", return_value=evening):
        response = client_for(tenant.staff, tenant.host).post(
            reverse("staff:request_new"), _intake_data(received_on=agency_tomorrow.isoformat())
        )

    assert response.status_code == 400
    assert requests_of(tenant) == []


def test_staff_log_with_a_received_year_outside_this_century_never_reuses_a_number(
    tenant, client_for
):
    existing = file_request(tenant, title="This year's first request")
    client = client_for(tenant.staff, tenant.host)

    # A date field's year typed as "26" arrives as 0026.
    response = client.post(
        reverse("staff:request_new"),
        _intake_data(title="Letter with a mistyped year", received_on="0026-03-02"),
    )

    if response.status_code == 400:  # refused as a field error: fine
        assert response.context["form"].errors["received_on"]
        assert requests_of(tenant) == [existing]
        return
    numbers = [r.number for r in requests_of(tenant)]
    assert len(set(numbers)) == len(numbers), numbers
    assert "Letter with a mistyped year" in body_of(client.get(response["Location"]))


# --- Search --------------------------------------------------------------------------------


@pytest.fixture
def monorail_requests(tenant):
    strong = file_request(
        tenant,
        title="Monorail feasibility study",
        description="The monorail study, monorail ridership forecasts and monorail costs.",
    )
    weak = file_request(
        tenant,
        title="Transit board minutes",
        description="Minutes of 2024, which mention a monorail once among other business.",
    )
    file_request(tenant, title="Park budget", description="Spending on parks in 2025.")
    file_request(
        tenant,
        title="Restricted monorail contract",
        description="The secret monorail contract.",
        visibility=Visibility.RESTRICTED,
    )
    return strong, weak


def test_archive_search_finds_published_matches_ranked_with_highlighted_snippets(
    tenant, monorail_requests, client_for
):
    strong, weak = monorail_requests

    response = client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"})

    body = body_of(response)
    assert response.status_code == 200
    assert [row["r"].pk for row in response.context["rows"]] == [strong.pk, weak.pk]
    assert "2 requests matching" in body
    assert "Park budget" not in body
    assert "Restricted monorail contract" not in body
    assert body.index("Monorail feasibility study") < body.index("Transit board minutes")
    assert "<mark>monorail</mark>" in body
    assert "The secret" not in body


def test_archive_snippet_is_never_html_except_its_mark_tags(tenant, client_for):
    file_request(
        tenant,
        title="Tagged text",
        description=(
            f"Records on the <b>monorail</b> project, {SCRIPT} and "
            '<img src="x" onerror="alert(2)"> monorail & other <i>things</i>.'
        ),
    )

    body = body_of(client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"}))

    snippet = re.search(r'<div class="snippet">(.*?)</div>', body, re.S).group(1)
    assert "<mark>monorail</mark>" in snippet
    tags = set(re.findall(r"</?([a-zA-Z]+)", snippet))
    assert tags == {"mark"}
    assert "<script" not in body.lower().replace('<script src="/static/', "")


def test_archive_snippet_shows_tags_in_the_description_escaped_as_written(tenant, client_for):
    file_request(
        tenant,
        title="Tagged text",
        description="Records on the <b>monorail</b> project and <i>other</i> things.",
    )

    body = body_of(client_for(None, tenant.host).get(reverse("archive"), {"q": "monorail"}))

    snippet = re.search(r'<div class="snippet">(.*?)</div>', body, re.S).group(1)
    assert "&lt;b&gt;<mark>monorail</mark>&lt;/b&gt;" in snippet


def test_similar_requests_fragment_lists_published_matches_and_never_restricted_ones(
    tenant, monorail_requests, client_for
):
    response = client_for(None, tenant.host).get(reverse("request_similar"), {"q": "monorail"})

    body = body_of(response)
    assert response.status_code == 200
    assert "Monorail feasibility study" in body
    assert "Transit board minutes" in body
    assert "Restricted monorail contract" not in body
    assert "secret" not in body


# --- Query discipline ----------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url_name", "who"),
    [("archive", None), ("staff:request_queue", "admin"), ("my_requests", "requester")],
)
def test_list_page_query_count_does_not_grow_with_twenty_more_requests(
    url_name, who, tenant, client_for, django_assert_num_queries
):
    user = getattr(tenant, who) if who else None
    requester = tenant.requester

    def add(count: int, start: int) -> list[str]:
        return [
            file_request(tenant, requester=requester, title=f"Listed request {start + n}").number
            for n in range(count)
        ]

    add(2, 0)
    client = client_for(user, tenant.host)
    url = reverse(url_name)
    client.get(url)  # warm per-process caches
    before = _count_queries(client, url)

    numbers = add(20, 2)

    with django_assert_num_queries(before):
        response = client.get(url)
    body = body_of(response)
    assert all(f">{number}<" in body for number in numbers)


# --- Outsiders -----------------------------------------------------------------------------

STAFF_REQUEST_URLS = [
    ("detail", "get"),
    ("acknowledge", "post"),
    ("message", "post"),
    ("route", "post"),
    ("pause", "post"),
    ("resume", "post"),
    ("extend", "post"),
    ("due_date", "post"),
    ("close", "post"),
    ("reopen", "post"),
    ("visibility", "post"),
]


@pytest.fixture
def a_second_request_b_lacks(tenant, other_tenant):
    """Agency A has requests YY-1 and YY-2; agency B only YY-1. A's YY-2 exists nowhere in B."""
    file_request(tenant, title="Alpha first")
    second = file_request(tenant, title="Alpha second: harbour dredging")
    file_request(other_tenant, title="Bravo first")
    assert second.sequence == 2
    return second


@pytest.mark.parametrize("host_of", ["agency_a", "agency_b"])
@pytest.mark.parametrize(("action", "method"), STAFF_REQUEST_URLS)
def test_other_agency_admin_gets_404_for_the_request_on_every_staff_url(
    action, method, host_of, tenant, other_tenant, outsider, a_second_request_b_lacks, client_for
):
    filed = a_second_request_b_lacks
    host = tenant.host if host_of == "agency_a" else other_tenant.host
    client = client_for(outsider, host)
    data = {
        "kind": "internal",
        "body": "x",
        "pause-reason": "x",
        "reopen-reason": "x",
        "extend-days": "5",
        "extend-reason": "x",
        "visibility-visibility": "restricted",
    }

    response = getattr(client, method)(staff_url(action, filed), data)

    assert response.status_code == 404
    assert "Page not found" in body_of(response)
    assert "harbour dredging" not in body_of(response)
    after = reload(tenant, filed)
    assert (after.status, after.visibility, after.due_date) == (
        filed.status,
        filed.visibility,
        filed.due_date,
    )
    assert [e.action for e in request_audit_events(tenant, filed)] == ["request.submitted"]


def test_public_request_number_of_another_agency_answers_404_on_this_host(
    tenant, other_tenant, a_second_request_b_lacks, client_for
):
    filed = a_second_request_b_lacks
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 200

    response = client_for(None, other_tenant.host).get(public_url(filed))

    assert response.status_code == 404
    assert "harbour dredging" not in body_of(response)


def test_other_agency_requests_are_not_in_the_staff_queue(
    tenant, other_tenant, a_second_request_b_lacks, client_for
):
    body = body_of(
        client_for(other_tenant.admin, other_tenant.host).get(reverse("staff:request_queue"))
    )
    assert "Bravo first" in body
    assert "Alpha second" not in body
    assert "Alpha first" not in body
