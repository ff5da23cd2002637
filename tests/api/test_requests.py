"""The requests resource: the web's rules through the API (who reads what, who may act,
the same validation), another agency's ids 404, bad filters and page sizes 400."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.tenancy import agency_context
from audit.models import AuditEvent
from audit.selectors import describe
from requests_portal.models import Channel, ClosureReason, RecordsRequest
from requests_portal.services import submission
from tests.api.helpers import api_client, file_as, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("agencies")]


def _client(tenant, user, agency=None):
    _token, text = make_token(user, agency or tenant.agency)
    return api_client(text, tenant.host)


def test_a_requester_files_follows_and_replies(tenant, django_capture_on_commit_callbacks):
    client = _client(tenant, tenant.requester)
    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post(
            "/api/v1/requests/",
            {"title": "Road repair contracts", "description": "All contracts for 2025 road work."},
            content_type="application/json",
        )
    assert filed.status_code == 201, filed.content
    number = filed.json()["number"]
    assert client.get(f"/api/v1/requests/{number}/").json()["title"] == "Road repair contracts"
    listed = client.get("/api/v1/requests/").json()
    assert [r["number"] for r in listed["results"]] == [number]
    reply = client.post(
        f"/api/v1/requests/{number}/messages/",
        {"body": "Paper copies are fine too."},
        content_type="application/json",
    )
    assert reply.status_code == 201, reply.content
    assert reply.json()["kind"] == "from_requester"
    timeline = client.get(f"/api/v1/requests/{number}/timeline/").json()
    assert timeline and all(e["is_public"] for e in timeline)
    with agency_context(tenant.agency):
        filed_row = RecordsRequest.objects.get(agency=tenant.agency, title="Road repair contracts")
        event = AuditEvent.objects.get(
            agency=tenant.agency, action="request.submitted", target_id=str(filed_row.pk)
        )
    # Filed by the requester through the API: received now, confirmed by email, and recorded
    # as the API's, not as the web form's or a clerk's.
    assert filed_row.requester_id == tenant.requester.pk
    assert filed_row.channel == Channel.API and filed_row.self_filed
    assert event.details["channel"] == "api" and event.actor_id == tenant.requester.pk
    assert "through the API" in describe([event])[0]["sentence"]
    assert any(tenant.requester.email in m.to for m in mail.outbox)
    assert "(api)" in timeline[0]["summary"].lower()


def test_the_web_forms_rules_apply(tenant):
    client = _client(tenant, tenant.requester)
    response = client.post(
        "/api/v1/requests/",
        {"title": "Paper please", "description": "x", "delivery": "mail"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "address" in response.json()["error"]["fields"]
    missing = client.post("/api/v1/requests/", {}, content_type="application/json")
    assert set(missing.json()["error"]["fields"]) >= {"title", "description"}


def test_a_requester_sees_only_their_own(tenant):
    other = file_as(tenant, tenant.staff, "Someone else's")
    mine = file_as(tenant, tenant.requester, "Mine")
    client = _client(tenant, tenant.requester)
    numbers = [r["number"] for r in client.get("/api/v1/requests/").json()["results"]]
    assert numbers == [mine.number]
    assert client.get(f"/api/v1/requests/{other.number}/").status_code == 404
    assert client.get(f"/api/v1/requests/{other.number}/messages/").status_code == 404
    assert (
        client.post(
            f"/api/v1/requests/{mine.number}/actions/acknowledge/",
            {},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_an_outsider_gets_404_on_every_object_endpoint_on_both_sites(tenant, other_tenant):
    records_request = file_as(tenant, tenant.requester)
    number = records_request.number
    paths = [
        f"/api/v1/requests/{number}/",
        f"/api/v1/requests/{number}/messages/",
        f"/api/v1/requests/{number}/timeline/",
    ]
    own_site = _client(other_tenant, other_tenant.admin)
    for path in paths:
        assert own_site.get(path).status_code == 404, path
    act = own_site.post(
        f"/api/v1/requests/{number}/actions/acknowledge/", {}, content_type="application/json"
    )
    assert act.status_code == 404
    # On agency A's site the outsider is no member: only their own requests (none there).
    _token, text = make_token(other_tenant.admin, tenant.agency)
    on_a = api_client(text, tenant.host)
    for path in paths:
        assert on_a.get(path).status_code == 404, path
    assert on_a.get("/api/v1/requests/").json()["results"] == []


@pytest.mark.parametrize(
    ("action", "body", "allowed", "refused"),
    [
        ("acknowledge", {}, ("admin", "publisher"), ("staff",)),
        ("pause", {"reason": "Waiting for the requester"}, ("admin", "publisher"), ("staff",)),
        ("extend", {"days": 5, "reason": "Many records"}, ("admin", "publisher"), ("staff",)),
    ],
)
def test_each_action_for_the_roles_that_hold_it(tenant, action, body, allowed, refused):
    for role in allowed + refused:
        records_request = file_as(tenant, tenant.requester, f"{action} {role}")
        client = _client(tenant, getattr(tenant, role))
        response = client.post(
            f"/api/v1/requests/{records_request.number}/actions/{action}/",
            body,
            content_type="application/json",
        )
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, response.content)


def test_close_route_and_resume_through_the_web_forms(tenant):
    records_request = file_as(tenant, tenant.requester)
    client = _client(tenant, tenant.admin)
    base = f"/api/v1/requests/{records_request.number}/actions"
    with agency_context(tenant.agency):
        reason = ClosureReason.objects.filter(
            agency=tenant.agency, is_active=True, requires_citation=False
        ).first()
        department = tenant.agency.department_set.first()
    routed = client.post(
        f"{base}/route/",
        {"departments": [department.pk], "lead": department.pk},
        content_type="application/json",
    )
    assert routed.status_code == 200, routed.content
    assert routed.json()["request"]["departments"] == [department.name]
    assert client.post(f"{base}/pause/", {}, content_type="application/json").status_code == 400
    client.post(f"{base}/pause/", {"reason": "Waiting"}, content_type="application/json")
    assert client.post(f"{base}/resume/", {}, content_type="application/json").status_code == 200
    again = client.post(f"{base}/resume/", {}, content_type="application/json")
    assert again.status_code == 400
    assert "not paused" in again.json()["error"]["message"]
    closed = client.post(
        f"{base}/close/", {"reason": reason.pk, "note": "Done."}, content_type="application/json"
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["request"]["status"] == "closed"


def test_bad_filters_page_sizes_and_cursors_are_400_with_a_message(tenant):
    for n in range(3):
        file_as(tenant, tenant.requester, f"Request {n}")
    client = _client(tenant, tenant.admin)
    for query in (
        "status=nonsense",
        "since=yesterday",
        "department=abc",
        "page_size=0",
        "page_size=1000",
        "page_size=x",
        "cursor=%%%",
        "cursor=abc",
    ):
        response = client.get(f"/api/v1/requests/?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]["fields"], query
    first = client.get("/api/v1/requests/?page_size=2&status=any").json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    second = client.get(f"/api/v1/requests/?page_size=2&status=any&cursor={first['next_cursor']}")
    assert len(second.json()["results"]) == 1 and second.json()["next_cursor"] is None
    found = client.get("/api/v1/requests/?q=minutes&status=any").json()["results"]
    assert len(found) == 3


def test_staff_messages_use_the_web_form(tenant):
    records_request = file_as(tenant, tenant.requester)
    client = _client(tenant, tenant.staff)
    path = f"/api/v1/requests/{records_request.number}/messages/"
    note = client.post(path, {"body": "Checked the archive."}, content_type="application/json")
    assert note.status_code == 201 and note.json()["kind"] == "internal"
    refused = client.post(
        path, {"body": "Hi", "kind": "to_requester"}, content_type="application/json"
    )
    assert refused.status_code == 400  # staff may not write to the requester (the web's rule)
    assert client.get(path).json()[0]["body"] == "Checked the archive."


def test_an_oversized_body_is_413_before_parsing(tenant, settings):
    settings.API_MAX_JSON_BYTES = 1000
    client = _client(tenant, tenant.requester)
    response = client.post(
        "/api/v1/requests/",
        '{"title": "' + "x" * 2000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    broken = client.post("/api/v1/requests/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["error"]["message"]


def test_search_results_come_best_match_first_and_page_by_position(tenant):
    in_title = file_as(tenant, tenant.requester, "Monorail contracts")
    with agency_context(tenant.agency):
        newer = submission.request_submit(
            agency=tenant.agency,
            actor=tenant.requester,
            title="Budget hearings",
            description="Every hearing, the monorail among others.",
            contact=submission.Contact(name="Pat", email=tenant.requester.email),
        )
    file_as(tenant, tenant.requester, "Ferry timetable")
    for user, status in ((tenant.admin, "&status=any"), (tenant.requester, "")):
        client = _client(tenant, user)
        answer = client.get(f"/api/v1/requests/?q=monorail{status}&page_size=1")
        assert answer.status_code == 200, answer.content
        first = answer.json()
        assert [r["number"] for r in first["results"]] == [in_title.number]
        cursor = first["next_cursor"]
        second = client.get(f"/api/v1/requests/?q=monorail{status}&page_size=1&cursor={cursor}")
        assert [r["number"] for r in second.json()["results"]] == [newer.number]
        assert second.json()["next_cursor"] is None


def test_search_shows_a_requester_only_their_own_and_an_outsider_nothing(tenant, other_tenant):
    file_as(tenant, tenant.staff, "Harbor dredging permits")  # not the requester's
    mine = file_as(tenant, tenant.requester, "Harbor dredging contracts")
    client = _client(tenant, tenant.requester)
    found = client.get("/api/v1/requests/?q=harbor").json()["results"]
    assert [r["number"] for r in found] == [mine.number]
    # The other agency's admin, on this agency's site: no member here, none of their own.
    _token, text = make_token(other_tenant.admin, tenant.agency)
    outsider = api_client(text, tenant.host)
    answer = outsider.get("/api/v1/requests/?q=harbor")
    assert answer.status_code == 200 and answer.json()["results"] == []
    # And on their own agency's site, this agency's requests are not there to find.
    own_site = _client(other_tenant, other_tenant.admin)
    assert own_site.get("/api/v1/requests/?q=harbor&status=any").json()["results"] == []


def test_search_of_stop_words_only_finds_nothing_and_a_bad_cursor_is_400(tenant):
    file_as(tenant, tenant.requester, "The minutes")
    for user, status in ((tenant.admin, "&status=any"), (tenant.requester, "")):
        client = _client(tenant, user)
        answer = client.get(f"/api/v1/requests/?q=the+and+of{status}")
        assert answer.status_code == 200, answer.content
        assert answer.json()["results"] == []
        assert client.get(f"/api/v1/requests/?q=minutes{status}").json()["results"]
        for cursor in ("%%%", "abc"):
            refused = client.get(f"/api/v1/requests/?q=minutes{status}&cursor={cursor}")
            assert refused.status_code == 400, (user, cursor)
            assert refused.json()["error"]["fields"], cursor


def test_a_search_page_shows_each_request_as_the_list_does(tenant):
    """Search pages are built from plain rows (serializers.summaries), the list from model
    instances (RequestSummary): the same JSON for the same request, closed or not."""
    closed = file_as(tenant, tenant.requester, "Monorail closure")
    file_as(tenant, tenant.requester, "Monorail opening")
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(agency=tenant.agency, pk=closed.pk).update(
            status="closed", closed_at=closed.received_at
        )
    client = _client(tenant, tenant.admin)
    listed = client.get("/api/v1/requests/?status=any").json()["results"]
    found = client.get("/api/v1/requests/?q=monorail&status=any").json()["results"]
    assert (len(found) == 2 and found[0]["closed_at"]) or found[1]["closed_at"]
    assert sorted(found, key=lambda r: r["number"]) == sorted(listed, key=lambda r: r["number"])
