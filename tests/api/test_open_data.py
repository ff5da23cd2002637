"""Open data: public, paged, cache-friendly, exported in bulk, and never a requester's
personal data."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tenancy import agency_context
from api.open_data import records
from api.open_data.schema import OpenDocumentSerializer, OpenRequestSerializer
from audit.models import AuditEvent
from documents.models import Document, DocumentStatus, ReleaseLevel
from requests_portal.models import RecordsRequest, Visibility
from requests_portal.services import agency_settings, submission

pytestmark = pytest.mark.django_db

# Every requester's distinctive contact details: none may appear in any open-data output.
REQUESTERS = [
    ("Zebediah Quillfeather", "zebediah.quill@example.org", "(415) 555-0199", "12 Larkspur Row"),
    ("Philippa Thornbury-Vance", "p.thornbury@example.net", "212-555-0143", "9 Juniper Court"),
    ("Ignatius Morrowgale", "ignatius.m@example.com", "+1 303 555 0177", "77 Sorrel Lane"),
]


def _publish(tenant, n: int, *, visibility=Visibility.PUBLISHED, prefix="Budget") -> list:
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")
        filed = []
        for i in range(n):
            name, email, phone, address = REQUESTERS[i % len(REQUESTERS)]
            r = submission.request_submit(
                agency=tenant.agency,
                actor=None,
                title=f"{prefix} records {i}",
                description=f"All {prefix.lower()} spreadsheets of year {2000 + i}.",
                contact=submission.Contact(name=name, email=email, phone=phone, address=address),
                channel="web",
            )
            RecordsRequest.objects.filter(pk=r.pk).update(visibility=visibility)
            filed.append(RecordsRequest.objects.get(pk=r.pk))
        return filed


def _release(tenant, records_request, filename="budget.pdf") -> Document:
    with agency_context(tenant.agency):
        return Document.objects.create(
            agency=tenant.agency,
            request=records_request,
            filename=filename,
            content_type="application/pdf",
            size=1234,
            status=DocumentStatus.CLEAN,
            pii_checked=True,
            release=ReleaseLevel.PUBLIC,
            released_at=timezone.now(),
        )


def _public(tenant) -> Client:
    return Client(HTTP_HOST=tenant.host)


def _all_pages(client, url: str) -> list[bytes]:
    bodies = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        bodies.append(response.content)
        url = json.loads(response.content)["next"]
    return bodies


def _streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def test_no_requester_personal_data_in_any_open_data_output(tenant):
    filed = _publish(tenant, 6)
    for r in filed[:3]:
        _release(tenant, r)
    client = _public(tenant)
    outputs = _all_pages(client, "/api/v1/open-data/requests/?page_size=2")
    outputs += _all_pages(client, "/api/v1/open-data/documents/?page_size=2")
    outputs += _all_pages(client, "/api/v1/open-data/requests/?q=budget&page_size=2")
    for r in filed:
        detail = client.get(f"/api/v1/open-data/requests/{r.number}/")
        assert detail.status_code == 200
        outputs.append(detail.content)
    for export in ("requests.csv", "requests.json", "documents.csv", "documents.json"):
        response = client.get(f"/api/v1/open-data/{export}")
        assert response.status_code == 200
        outputs.append(_streamed(response))
    everything = b"\n".join(outputs).decode()
    assert "Budget records 5" in everything and "budget.pdf" in everything  # the data is there
    for name, email, phone, address in REQUESTERS:
        for value in (name, *name.split(), email, email.split("@")[0], phone, address):
            assert value.lower() not in everything.lower(), value
        assert phone[-4:] not in everything  # no phone in any format


def test_lists_page_by_key_and_show_only_public_requests(tenant, other_tenant):
    public = _publish(tenant, 5)
    _publish(tenant, 2, visibility=Visibility.ALL_STAFF, prefix="Hidden")
    _publish(other_tenant, 2, prefix="Elsewhere")
    pages = [
        json.loads(b)
        for b in _all_pages(_public(tenant), "/api/v1/open-data/requests/?page_size=2")
    ]
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    numbers = [item["number"] for p in pages for item in p["results"]]
    assert numbers == [r.number for r in reversed(public)]
    assert set(pages[0]["results"][0]) == set(records.REQUEST_COLUMNS)
    assert set(OpenRequestSerializer().fields) == set(records.REQUEST_COLUMNS)
    assert set(OpenDocumentSerializer().fields) == set(records.DOCUMENT_COLUMNS)


def test_etag_and_last_modified_answer_304(tenant):
    _publish(tenant, 2)
    client = _public(tenant)
    first = client.get("/api/v1/open-data/requests/")
    assert first.status_code == 200
    assert "public" in first["Cache-Control"] and "max-age=60" in first["Cache-Control"]
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get("/api/v1/open-data/requests/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    unchanged = client.get("/api/v1/open-data/requests/", HTTP_IF_MODIFIED_SINCE=modified)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    _publish(tenant, 1, prefix="Newer")
    changed = client.get("/api/v1/open-data/requests/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_exports_hold_every_public_request(tenant):
    public = _publish(tenant, 3)
    _publish(tenant, 1, visibility=Visibility.ALL_STAFF, prefix="Hidden")
    client = _public(tenant)
    rows = list(
        csv.DictReader(
            io.StringIO(_streamed(client.get("/api/v1/open-data/requests.csv")).decode())
        )
    )
    assert sorted(row["number"] for row in rows) == sorted(r.number for r in public)
    items = json.loads(_streamed(client.get("/api/v1/open-data/requests.json")))
    assert sorted(item["number"] for item in items) == sorted(r.number for r in public)
    assert json.loads(_streamed(client.get("/api/v1/open-data/documents.json"))) == []


def test_a_formula_in_a_title_is_defused_in_csv(tenant):
    (r,) = _publish(tenant, 1)
    with agency_context(tenant.agency):
        RecordsRequest.objects.filter(pk=r.pk).update(title="=HYPERLINK(1)")
    body = _streamed(_public(tenant).get("/api/v1/open-data/requests.csv")).decode()
    assert "'=HYPERLINK(1)" in body


@pytest.mark.parametrize(
    "query",
    [
        "page_size=0",
        "page_size=201",
        "page_size=x",
        "after=zz",
        "since=not-a-date",
        "status=maybe",
        "department=999999",
        "q=budget&page=0",
    ],
)
def test_invalid_filters_and_page_sizes_are_400_with_a_message(tenant, query):
    _publish(tenant, 1)
    response = _public(tenant).get(f"/api/v1/open-data/requests/?{query}")
    assert response.status_code == 400
    error = json.loads(response.content)["error"]
    assert error["code"] == "invalid" and error["fields"]


def test_another_agencys_request_and_unknown_ones_are_404(tenant, other_tenant):
    (theirs,) = _publish(other_tenant, 1)
    (hidden,) = _publish(tenant, 1, visibility=Visibility.ALL_STAFF)
    client = _public(tenant)
    for number in (theirs.number, hidden.number, "99-999"):
        response = client.get(f"/api/v1/open-data/requests/{number}/")
        assert response.status_code == 404
        assert json.loads(response.content)["error"]["code"] == "not_found"
    bad_cursor = client.get(
        "/api/v1/open-data/documents/?after=00000000-0000-0000-0000-000000000000"
    )
    assert bad_cursor.status_code == 400


def test_open_data_needs_an_agency_host(tenant, settings):
    response = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get("/api/v1/open-data/requests/")
    assert response.status_code == 404


def test_a_signed_in_members_visit_is_on_the_audit_log(tenant, client_for):
    _publish(tenant, 1)
    response = client_for(tenant.staff, tenant.host).get("/api/v1/open-data/requests/")
    assert response.status_code == 200
    with agency_context(tenant.agency):
        views = AuditEvent.objects.filter(agency=tenant.agency, action="page.view")
        assert "api:open_requests" in [e.details.get("view") for e in views]
