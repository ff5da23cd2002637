"""Staff work on a request (tasks, tags, time, templates) and the agency's request types and
custom questions."""

import datetime

import pytest

from accounts.local_time import agency_today
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from requests_portal.models import (
    CustomField,
    RecordsRequest,
    RequestType,
    ResponseTemplate,
    Task,
    TimeEntry,
)
from requests_portal.services import agency_settings, submission, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        request = submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Council minutes",
            description="Minutes of the March council meeting",
            contact=submission.Contact(name="Rita Resident", email="rita@example.org"),
        )
    tenant.request = request
    tenant.staff_url = f"/staff/requests/{request.number}/"
    return tenant


def _actions(tenant, action):
    with agency_context(tenant.agency):
        return list(
            AuditEvent.objects.filter(agency=tenant.agency, action=action)
            .order_by("id")
            .values_list("details", flat=True)
        )


def test_staff_add_a_task_and_mark_it_done(filed, client_for):
    client = client_for(filed.staff, filed.host)
    response = client.post(
        filed.staff_url + "tasks/",
        {"task-title": "Ask the clerk", "task-assignee": str(filed.publisher.pk)},
        follow=True,
    )
    assert b"Task added." in response.content, response.content.decode()[-3000:]
    with agency_context(filed.agency):
        task = Task.objects.get(agency=filed.agency)
    assert (task.title, task.assignee) == ("Ask the clerk", filed.publisher)
    client.post(filed.staff_url + f"tasks/{task.pk}/done/")
    with agency_context(filed.agency):  # row-level security hides the row otherwise
        task.refresh_from_db()
    assert task.done_at is not None
    assert [d["title"] for d in _actions(filed, "request.task_added")] == ["Ask the clerk"]
    assert _actions(filed, "request.task_done")[0]["done"] is True


def test_a_task_of_another_request_is_missing(filed, client_for, other_tenant):
    with agency_context(other_tenant.agency):
        agency_settings.agency_setup_defaults(agency=other_tenant.agency)
        theirs = submission.request_submit(
            agency=other_tenant.agency,
            actor=None,
            title="x",
            description="y",
            contact=submission.Contact(email="z@example.org"),
        )
        task = work.task_add(records_request=theirs, actor=other_tenant.admin, title="t")
    response = client_for(filed.admin, filed.host).post(filed.staff_url + f"tasks/{task.pk}/done/")
    assert response.status_code == 404


def test_tags_are_set_and_replaced(filed, client_for):
    client = client_for(filed.staff, filed.host)
    client.post(filed.staff_url + "tags/", {"tags-tags": "budget, Council ,budget"})
    client.post(filed.staff_url + "tags/", {"tags-tags": "council, urgent"})
    with agency_context(filed.agency):
        from requests_portal.access import request_tag_names

        assert sorted(request_tag_names(filed.request)) == ["council", "urgent"]
    too_long = client.post(filed.staff_url + "tags/", {"tags-tags": "x" * 61})
    assert too_long.status_code == 400


@pytest.mark.clock
def test_time_is_logged_by_staff_and_only_owners_or_admins_correct_it(filed, client_for):
    today = agency_today(filed.agency).isoformat()
    staff = client_for(filed.staff, filed.host)
    staff.post(
        filed.staff_url + "time/", {"time-day": today, "time-minutes": "30", "time-note": "search"}
    )
    with agency_context(filed.agency):
        entry = TimeEntry.objects.get(agency=filed.agency)
    assert entry.minutes == 30
    publisher = client_for(filed.publisher, filed.host)
    assert (
        publisher.post(filed.staff_url + f"time/{entry.pk}/", {"minutes": "5"}).status_code == 403
    )
    assert staff.post(filed.staff_url + f"time/{entry.pk}/", {"minutes": "45"}).status_code == 302
    admin = client_for(filed.admin, filed.host)
    assert admin.post(filed.staff_url + f"time/{entry.pk}/", {"minutes": "50"}).status_code == 302
    with agency_context(filed.agency):
        entry.refresh_from_db()
    assert entry.minutes == 50
    future = (agency_today(filed.agency) + datetime.timedelta(days=2)).isoformat()
    refused = staff.post(filed.staff_url + "time/", {"time-day": future, "time-minutes": "10"})
    assert refused.status_code == 400
    assert [d["minutes"] for d in _actions(filed, "request.time_changed")] == [45, 50]


def test_placeholders_are_filled_and_unknown_ones_left_alone(filed):
    with agency_context(filed.agency):
        text = work.fill_placeholders(
            "Dear {requester_name}, {number} ({title}) is due {due_date}. {secret} {{x}}",
            filed.request,
        )
    assert text.startswith(f"Dear Rita Resident, {filed.request.number} (Council minutes) is due ")
    assert "{secret}" in text


def test_a_template_prefills_the_message_form(filed, client_for):
    with agency_context(filed.agency):
        template = ResponseTemplate.objects.create(
            agency=filed.agency,
            kind="message",
            name="Clarify",
            body="About {number}: <b>which</b>?",
        )
    page = client_for(filed.publisher, filed.host).get(filed.staff_url + f"?template={template.pk}")
    body = page.content.decode()
    assert f"About {filed.request.number}: &lt;b&gt;which&lt;/b&gt;?" in body
    missing = client_for(filed.publisher, filed.host).get(filed.staff_url + "?template=999999")
    assert missing.status_code == 200


def test_admins_manage_templates_and_staff_cannot(filed, client_for):
    data = {"kind": "closure", "name": "Done", "body": "Closed {number}."}
    assert (
        client_for(filed.staff, filed.host).post("/staff/settings/templates/", data).status_code
        == 403
    )
    assert (
        client_for(filed.admin, filed.host).post("/staff/settings/templates/", data).status_code
        == 302
    )
    with agency_context(filed.agency):
        assert ResponseTemplate.objects.filter(agency=filed.agency, name="Done").exists()


@pytest.mark.clock
def test_a_request_type_sets_its_own_deadline(filed, client_for):
    admin = client_for(filed.admin, filed.host)
    admin.post(
        "/staff/settings/request-types/",
        {"name": "Body-camera video", "response_days": "30", "response_method": "calendar"},
    )
    with agency_context(filed.agency):
        video = RequestType.objects.get(agency=filed.agency)
    response = client_for(None, filed.host).post(
        "/requests/new/",
        {
            "title": "Video of the March 3 stop",
            "description": "Body-camera video",
            "delivery": "electronic",
            "email": "v@example.org",
            "request_type": str(video.pk),
        },
    )
    assert response.status_code == 302
    with agency_context(filed.agency):
        filed_request = RecordsRequest.objects.get(agency=filed.agency, request_type=video)
    assert filed_request.counting_method == "calendar"
    assert (filed_request.due_date - filed_request.day_zero).days == 30


def test_custom_questions_appear_on_the_form_and_are_kept_with_the_request(filed, client_for):
    admin = client_for(filed.admin, filed.host)
    bad = admin.post(
        "/staff/settings/custom-fields/", {"label": "Format", "kind": "choice", "choices": "PDF"}
    )
    assert bad.status_code == 400
    admin.post(
        "/staff/settings/custom-fields/",
        {"label": "Format", "kind": "choice", "choices": "PDF\nPaper", "required": "on"},
    )
    with agency_context(filed.agency):
        field = CustomField.objects.get(agency=filed.agency)
    public = client_for(None, filed.host)
    assert b"Format" in public.get("/requests/new/").content
    base = {"title": "T", "description": "D", "delivery": "electronic", "email": "c@example.org"}
    missing = public.post("/requests/new/", base)
    assert missing.status_code == 400
    wrong = public.post("/requests/new/", {**base, f"custom_{field.pk}": "Fax"})
    assert wrong.status_code == 400
    ok = public.post("/requests/new/", {**base, f"custom_{field.pk}": "Paper"})
    assert ok.status_code == 302
    with agency_context(filed.agency):
        saved = RecordsRequest.objects.get(agency=filed.agency, title="T")
    assert saved.custom_data == {str(field.pk): {"label": "Format", "value": "Paper"}}
    staff_page = client_for(filed.staff, filed.host).get(f"/staff/requests/{saved.number}/")
    assert b"Paper" in staff_page.content


def test_an_internal_note_emails_the_named_colleagues_only(
    filed, client_for, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(filed.staff, filed.host).post(
            filed.staff_url + "message/",
            {
                "kind": "internal",
                "body": "Please check the archive",
                "notify": [str(filed.admin.pk)],
            },
        )
    assert response.status_code == 302
    notes = [m for m in mail.outbox if "note for you" in m.subject]
    assert [m.to for m in notes] == [[filed.admin.email]]
    assert "Please check the archive" in notes[0].body
    assert not any("rita@example.org" in m.to for m in notes)


def test_requester_emails_come_as_text_and_html_with_the_html_escaped(
    tenant, client_for, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        client_for(None, tenant.host).post(
            "/requests/new/",
            {
                "title": "<b>Bold</b> request",
                "description": "D",
                "delivery": "electronic",
                "email": "h@example.org",
            },
        )
    (confirmation,) = [m for m in mail.outbox if m.to == ["h@example.org"]]
    assert "<b>Bold</b> request" in confirmation.body  # plain text stays as written
    html, mimetype = confirmation.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;b&gt;Bold&lt;/b&gt; request" in html
