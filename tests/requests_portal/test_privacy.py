"""Who will read a request, said before it is sent; a requester's ask to keep it private;
personal data in a description that would be public held until staff review it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.local_time import agency_today
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from documents import release
from documents.errors import DocumentError
from requests_portal.models import (
    Department,
    PublicSearchEntry,
    RecordsRequest,
    TimelineEvent,
    Visibility,
)
from requests_portal.services import lifecycle, review, submission
from requests_portal.services.changes import RequestStateError
from tests.documents.helpers import pdf_with_text, stored_document
from tests.requests_portal.helpers import (
    body_of,
    department,
    file_request,
    form_data,
    public_url,
    reload,
    request_audit_events,
    requests_of,
    set_request_settings,
    staff_url,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]

PUBLIC_NOTICE = "will be published on this site&#x27;s public archive as soon as you send it"
STAFF_ONLY_NOTICE = "Only you and agency staff can read this request. It is not published."
PRIVATE_BOX = "Ask to keep this request private"
EXPLANATION = "Section 7(1)(c) of the Records Act lets you keep a request about yourself private."
SSN_DESCRIPTION = "My own police report. My SSN is 123-45-6789, in case you need it."


def _form_page(tenant, client_for, user=None) -> str:
    response = client_for(user, tenant.host).get(reverse("request_new"))
    assert response.status_code == 200
    return body_of(response)


def _allow_private(tenant) -> None:
    set_request_settings(
        tenant, allow_private_requests=True, private_request_explanation=EXPLANATION
    )


def _indexed(tenant) -> set[int]:
    with agency_context(tenant.agency):
        return set(
            PublicSearchEntry.objects.filter(agency=tenant.agency).values_list(
                "request_id", flat=True
            )
        )


def _timeline_kinds(tenant, records_request) -> list[str]:
    with agency_context(tenant.agency):
        return list(
            TimelineEvent.objects.filter(agency=tenant.agency, request=records_request)
            .order_by("id")
            .values_list("kind", flat=True)
        )


def _actions(tenant, records_request) -> list[str]:
    return [e.action for e in request_audit_events(tenant, records_request)]


# --- Who will read it, said on the form ---------------------------------------------------------


def test_form_says_before_sending_that_a_published_request_is_public(tenant, client_for):
    page = _form_page(tenant, client_for)

    assert "Who can read your request" in page
    assert PUBLIC_NOTICE in page
    assert "never shown to the public" in page
    # Said before the fields the requester types into.
    assert page.index(PUBLIC_NOTICE) < page.index('name="description"')


def test_form_says_only_staff_read_it_when_the_default_is_not_public(tenant, client_for):
    set_request_settings(tenant, default_visibility=Visibility.ALL_STAFF)

    page = _form_page(tenant, client_for)

    assert STAFF_ONLY_NOTICE in page
    assert "public archive" not in page


def test_form_says_when_an_embargoed_request_turns_public(tenant, client_for):
    set_request_settings(tenant, default_visibility=Visibility.EMBARGOED, embargo_days=30)

    page = _form_page(tenant, client_for)

    assert "public archive 30 days after it is closed" in page


def test_form_names_the_departments_whose_requests_another_audience_reads(tenant, client_for):
    police = department(tenant, "Police")
    with agency_context(tenant.agency):
        Department.objects.filter(pk=police.pk).update(default_visibility=Visibility.RESTRICTED)

    page = _form_page(tenant, client_for)

    assert PUBLIC_NOTICE in page  # the agency's default, and Clerk's
    assert "Except when you choose one of these departments" in page
    assert "<li>Police: Only you, the staff member handling it" in page
    assert "<li>Clerk:" not in page

    # Without the department picker, no department applies: only the default is said.
    set_request_settings(tenant, show_department_picker=False)
    page = _form_page(tenant, client_for)
    assert "Except when you choose" not in page
    assert PUBLIC_NOTICE in page


def test_the_chosen_department_gives_the_visibility_the_form_announced(tenant, client_for):
    police = department(tenant, "Police")
    with agency_context(tenant.agency):
        Department.objects.filter(pk=police.pk).update(default_visibility=Visibility.RESTRICTED)

    client_for(None, tenant.host).post(reverse("request_new"), form_data(department=police.pk))

    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.RESTRICTED


def test_staff_intake_says_who_will_read_the_request(tenant, client_for):
    set_request_settings(tenant, default_visibility=Visibility.RESTRICTED)

    page = body_of(client_for(tenant.staff, tenant.host).get(reverse("staff:request_new")))

    assert "Who can read this request (tell the requester)" in page
    assert "Only you, the staff member handling it and the agency&#x27;s administrators" in page


# --- Asking to keep it private -----------------------------------------------------------------


def test_private_request_starts_restricted_and_staff_read_why(tenant, client_for):
    _allow_private(tenant)
    page = _form_page(tenant, client_for)
    assert PRIVATE_BOX in page
    assert "Section 7(1)(c) of the Records Act" in page
    reason = "It is my own medical file; the law lets me keep it private."

    response = client_for(None, tenant.host).post(
        reverse("request_new"), form_data(private="on", private_reason=reason)
    )

    assert response.status_code == 302
    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.RESTRICTED
    assert filed.private_reason == reason
    # Out of the public's sight.
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 404
    assert filed.title not in body_of(client_for(None, tenant.host).get(reverse("archive")))
    assert filed.pk not in _indexed(tenant)
    # Staff who may open it read the reason, on the page and in the timeline.
    staff_page = body_of(client_for(tenant.admin, tenant.host).get(staff_url("detail", filed)))
    assert "The requester asked to keep this request private" in staff_page
    assert reason in staff_page
    assert "private_requested" in _timeline_kinds(tenant, filed)
    # Audited with the filing (the reason itself stays out of the unerasable log).
    events = request_audit_events(tenant, filed)
    [asked] = [e for e in events if e.action == "request.private_requested"]
    assert asked.details == {"number": filed.number, "visibility": "restricted"}
    assert reason not in str(asked.details)
    # The requester is told (their own page, through the tracking link).
    requester_page = body_of(client_for(None, tenant.host).get(response["Location"]))
    assert "You asked to keep this request private" in requester_page


def test_asking_for_privacy_without_a_reason_is_refused(tenant, client_for):
    _allow_private(tenant)

    response = client_for(None, tenant.host).post(
        reverse("request_new"), form_data(private="on", private_reason="  ")
    )

    assert response.status_code == 400
    assert response.context["form"].errors["private_reason"] == [
        "Say why your request should stay private, or untick the box."
    ]
    assert requests_of(tenant) == []


def test_a_reason_without_the_box_ticked_asks_nothing(tenant, client_for):
    _allow_private(tenant)

    client_for(None, tenant.host).post(
        reverse("request_new"), form_data(private_reason="typed, then changed my mind")
    )

    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.PUBLISHED
    assert filed.private_reason == ""


def test_privacy_cannot_be_asked_where_the_agency_does_not_allow_it(tenant, client_for):
    assert PRIVATE_BOX not in _form_page(tenant, client_for)

    # A forged post with the field is ignored: the request is filed as the form said.
    client_for(None, tenant.host).post(
        reverse("request_new"), form_data(private="on", private_reason="Please hide it")
    )

    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.PUBLISHED
    assert filed.private_reason == ""
    assert "request.private_requested" not in _actions(tenant, filed)
    # And the service itself refuses it.
    with agency_context(tenant.agency), pytest.raises(RequestStateError):
        submission.request_submit(
            agency=tenant.agency,
            actor=None,
            title="Forged",
            description="Forged",
            contact=submission.Contact(email="forger@example.org"),
            private_reason="Please hide it",
        )


def test_privacy_is_not_offered_when_no_request_could_be_public(tenant, client_for):
    _allow_private(tenant)
    set_request_settings(tenant, default_visibility=Visibility.ALL_STAFF)

    assert PRIVATE_BOX not in _form_page(tenant, client_for)


def test_staff_log_a_private_request_they_then_cannot_open(tenant, client_for):
    _allow_private(tenant)
    client = client_for(tenant.staff, tenant.host)
    assert PRIVATE_BOX in body_of(client.get(reverse("staff:request_new")))

    response = client.post(
        reverse("staff:request_new"),
        form_data(
            channel="phone",
            received_on=agency_today(tenant.agency).isoformat(),
            private="on",
            private_reason="Caller asks: about their own child",
        ),
    )

    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.RESTRICTED
    assert filed.private_reason == "Caller asks: about their own child"
    # Restricted: not the logging clerk's to open; they land on the queue, told why.
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:request_queue")


def test_the_agency_setting_is_edited_on_the_settings_page_and_audited(tenant, client_for):
    data = {
        "response_days": 10,
        "response_method": "business",
        "acknowledge_days": 3,
        "acknowledge_method": "business",
        "cutoff": "17:00",
        "state": "CA",
        "default_visibility": "published",
        "embargo_days": 0,
        "show_department_picker": "on",
        "allow_private_requests": "on",
        "private_request_explanation": EXPLANATION,
    }
    client = client_for(tenant.admin, tenant.host)
    assert "Let requesters ask to keep their request private" in body_of(
        client.get(reverse("staff:settings"))
    )

    response = client.post(reverse("staff:settings"), data)

    assert response.status_code == 302
    assert PRIVATE_BOX in _form_page(tenant, client_for)
    with agency_context(tenant.agency):
        event = AuditEvent.objects.filter(
            agency=tenant.agency, action="agency.settings_changed"
        ).latest("id")
    assert event.details["changed"]["allow_private_requests"] == ["False", "True"]
    assert event.details["changed"]["private_request_explanation"][1] == EXPLANATION


# --- Personal data in a public description ------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "kind", "said"),
    [
        (SSN_DESCRIPTION, "ssn", "a Social Security number"),
        ("Call me back on (312) 555-0142 about the permit.", "phone", "a phone number"),
        ("Send it to jane.doe@example.org please.", "email", "an email address"),
    ],
)
def test_personal_data_in_a_public_description_is_held_from_the_public(
    tenant, client_for, description, kind, said
):
    response = client_for(None, tenant.host).post(
        reverse("request_new"),
        form_data(title="Permit file for 12 Oak Ave", description=description),
    )

    [filed] = requests_of(tenant)
    assert filed.visibility == Visibility.PUBLISHED
    assert filed.description_held
    assert filed.personal_data_kinds == [kind]
    public = client_for(None, tenant.host)
    assert public.get(public_url(filed)).status_code == 404
    assert "Permit file for 12 Oak Ave" not in body_of(public.get(reverse("archive")))
    assert "Permit file" not in body_of(public.get(reverse("archive"), {"q": "permit"}))
    assert filed.pk not in _indexed(tenant)
    # The requester still reads their own request, and why it is not public yet.
    own = body_of(client_for(None, tenant.host).get(response["Location"]))
    assert "Not public yet" in own
    # Staff see the hold and what kind of data, in the queue and on the request.
    queue = body_of(client_for(tenant.staff, tenant.host).get(reverse("staff:request_queue")))
    assert "Held: personal data?" in queue
    staff_page = body_of(client_for(tenant.publisher, tenant.host).get(staff_url("detail", filed)))
    assert "Kept from the public: check the description" in staff_page
    assert f"may contain {said}" in staff_page
    assert "Description reviewed: publish" in staff_page
    assert "description_held" in _timeline_kinds(tenant, filed)
    [held] = [e for e in request_audit_events(tenant, filed) if e.action.endswith("held")]
    assert held.details["kinds"] == [kind]
    assert "123-45-6789" not in str(held.details)


def test_staff_edit_out_the_personal_data_and_publish(tenant, client_for):
    filed = file_request(tenant, title="My police report", description=SSN_DESCRIPTION)
    assert filed.description_held

    response = client_for(tenant.publisher, tenant.host).post(
        staff_url("description_review", filed),
        {"description-description": "My own police report."},
    )

    assert response.status_code == 302
    filed = reload(tenant, filed)
    assert not filed.description_held
    assert filed.description == "My own police report."
    assert filed.personal_data_kinds == []
    assert filed.description_reviewed_at is not None
    page = client_for(None, tenant.host).get(public_url(filed))
    assert page.status_code == 200
    assert "123-45-6789" not in body_of(page)
    assert filed.pk in _indexed(tenant)
    assert "My police report" in body_of(client_for(None, tenant.host).get(reverse("archive")))
    [released] = [
        e for e in request_audit_events(tenant, filed) if e.action == "request.description_released"
    ]
    assert released.actor_id == tenant.publisher.pk
    assert released.details["edited"] is True
    assert "description_released" in _timeline_kinds(tenant, filed)


def test_staff_may_publish_the_description_as_it_is(tenant, client_for):
    filed = file_request(tenant, description=SSN_DESCRIPTION)

    client_for(tenant.admin, tenant.host).post(
        staff_url("description_review", filed), {"description-description": SSN_DESCRIPTION}
    )

    filed = reload(tenant, filed)
    assert not filed.description_held
    assert filed.personal_data_kinds == ["ssn"]  # reviewed and left in, knowingly
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 200
    [released] = [
        e for e in request_audit_events(tenant, filed) if e.action == "request.description_released"
    ]
    assert released.details["edited"] is False


def test_outsider_gets_404_and_staff_without_the_power_403_for_the_review(
    tenant, outsider, client_for
):
    filed = file_request(tenant, description=SSN_DESCRIPTION)
    url = staff_url("description_review", filed)
    data = {"description-description": "cleaned"}

    assert client_for(outsider, tenant.host).post(url, data).status_code == 404
    assert client_for(tenant.staff, tenant.host).post(url, data).status_code == 403
    filed = reload(tenant, filed)
    assert filed.description_held
    assert "request.description_released" not in _actions(tenant, filed)


def test_a_description_without_personal_data_is_public_at_once(tenant, client_for):
    filed = file_request(tenant, description="Council minutes of 2025, all meetings.")

    assert not filed.description_held
    assert client_for(None, tenant.host).get(public_url(filed)).status_code == 200
    assert filed.pk in _indexed(tenant)
    assert "Kept from the public" not in body_of(
        client_for(tenant.admin, tenant.host).get(staff_url("detail", filed))
    )


def test_a_request_that_is_not_public_is_not_held_until_staff_make_it_public(tenant):
    set_request_settings(tenant, default_visibility=Visibility.ALL_STAFF)
    filed = file_request(tenant, description=SSN_DESCRIPTION)
    assert not filed.description_held
    assert filed.personal_data_kinds == ["ssn"]

    with agency_context(tenant.agency):
        lifecycle.request_set_visibility(
            records_request=filed, actor=tenant.admin, visibility=Visibility.PUBLISHED
        )

    filed = reload(tenant, filed)
    assert filed.visibility == Visibility.PUBLISHED
    assert filed.description_held
    assert filed.pk not in _indexed(tenant)
    assert "request.description_held" in _actions(tenant, filed)


def test_a_reviewed_request_is_not_held_again_when_made_public_again(tenant):
    filed = file_request(tenant, description=SSN_DESCRIPTION)
    with agency_context(tenant.agency):
        review.request_release_description(
            records_request=filed, actor=tenant.admin, description=SSN_DESCRIPTION
        )
        for visibility in (Visibility.RESTRICTED, Visibility.PUBLISHED):
            lifecycle.request_set_visibility(
                records_request=filed, actor=tenant.admin, visibility=visibility
            )

    filed = reload(tenant, filed)
    assert not filed.description_held
    assert filed.pk in _indexed(tenant)
    with agency_context(tenant.agency), pytest.raises(RequestStateError):
        review.request_release_description(
            records_request=filed, actor=tenant.admin, description="again"
        )


def test_documents_of_a_held_request_wait_for_the_review_before_public_release(tenant):
    filed = file_request(tenant, description=SSN_DESCRIPTION)
    document = stored_document(filed, pdf_with_text("Budget 2026"))

    with agency_context(tenant.agency), pytest.raises(DocumentError, match="held from the public"):
        release.document_release(document=document, level="public", actor=tenant.admin)

    with agency_context(tenant.agency):
        review.request_release_description(
            records_request=filed, actor=tenant.admin, description="My own police report."
        )
        release.document_release(document=document, level="public", actor=tenant.admin)
        document.refresh_from_db()
    assert document.release == "public"


def test_requests_public_before_the_check_are_held_by_the_command(tenant, other_tenant):
    set_request_settings(tenant, default_visibility=Visibility.ALL_STAFF)
    earlier = file_request(tenant, title="Old one", description=SSN_DESCRIPTION)
    clean = file_request(tenant, title="Clean one")
    # Published as before this check existed: straight in the table, no review.
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk__in=[earlier.pk, clean.pk]).update(
            visibility=Visibility.PUBLISHED
        )
    assert earlier.pk in _indexed(tenant)
    out = io.StringIO()

    call_command("hold_personal_data", stdout=out)

    assert "alpha: 1 request(s) held for staff review" in out.getvalue()
    assert "bravo: 0 request(s)" in out.getvalue()
    assert reload(tenant, earlier).description_held
    assert not reload(tenant, clean).description_held
    assert earlier.pk not in _indexed(tenant)
    assert "request.description_held" in _actions(tenant, earlier)
    # Again: nothing more to hold.
    call_command("hold_personal_data", "--agency", "alpha", stdout=(again := io.StringIO()))
    assert "alpha: 0 request(s)" in again.getvalue()
