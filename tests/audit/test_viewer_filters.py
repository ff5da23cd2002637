"""The audit viewer at scale: each filter narrows the log, dates are the agency's calendar
days, pages are keyset pages (no count, no offset) that cover every event once, hostile
filter values are form errors and never a server error."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

import audit
from accounts.tenancy import agency_context
from audit.models import AuditEvent
from tests.audit.viewer_helpers import event_at, ids, link, list_page, shown_ids

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def test_each_filter_narrows_the_log(tenant, client_for):
    tenant.staff.full_name = "Ada Ortiz"
    tenant.staff.save(update_fields=["full_name"])
    by_staff = event_at(tenant, "auth.login", actor_id=tenant.staff.pk, ip="192.0.2.10")
    by_admin = event_at(tenant, "auth.logout", actor_id=tenant.admin.pk, ip="2001:db8::5")
    on_member = event_at(
        tenant,
        "page.view",
        target_type="accounts.membership",
        target_id="4711",
        ip="198.51.100.7",
        details={"note": "budget 100% approved", "path": "/staff/users/"},
    )
    wildcard_bait = event_at(tenant, "page.view", details={"note": "budget 1000 approved"})
    admin = client_for(tenant.admin, tenant.host)
    mine = {by_staff.pk, by_admin.pk, on_member.pk, wildcard_bait.pk}

    assert ids(admin, actor="ada ort") & mine == {by_staff.pk}
    assert ids(admin, actor=tenant.staff.email.upper()) & mine == {by_staff.pk}
    assert ids(admin, action="auth.logout") & mine == {by_admin.pk}
    assert ids(admin, category="signin") & mine == {by_staff.pk, by_admin.pk}
    assert ids(admin, target_type="accounts.membership", target_id="4711") == {on_member.pk}
    assert ids(admin, target_id="4711") == {on_member.pk}
    assert ids(admin, ip="192.0.2.10") == {by_staff.pk}
    assert ids(admin, ip="2001:db8:0::5") == {by_admin.pk}
    assert ids(admin, ip="198.51.100.0/24") == {on_member.pk}
    # Search is literal text: "%" is a percent sign, not a wildcard.
    assert ids(admin, q="100% approved") == {on_member.pk}
    assert ids(admin, q="budget") == {on_member.pk, wildcard_bait.pk}
    assert ids(admin, q="1_0") == set()
    # Filters combine.
    assert ids(admin, action="page.view", q="budget", ip="198.51.100.7") == {on_member.pk}


@pytest.mark.clock
def test_the_date_range_is_in_the_agencys_time_zone_and_inclusive(tenant, client_for):
    # The test agency is in America/Chicago (UTC-6 in January).
    assert tenant.agency.time_zone == "America/Chicago"
    late_on_the_14th = event_at(tenant, at=datetime.datetime(2026, 1, 15, 5, 59, tzinfo=UTC))
    start_of_the_15th = event_at(tenant, at=datetime.datetime(2026, 1, 15, 6, 0, tzinfo=UTC))
    end_of_the_15th = event_at(tenant, at=datetime.datetime(2026, 1, 16, 5, 59, 59, tzinfo=UTC))
    start_of_the_16th = event_at(tenant, at=datetime.datetime(2026, 1, 16, 6, 0, tzinfo=UTC))
    admin = client_for(tenant.admin, tenant.host)

    one_day = ids(admin, date_from="2026-01-15", date_to="2026-01-15")
    assert one_day == {start_of_the_15th.pk, end_of_the_15th.pk}
    assert ids(admin, date_to="2026-01-14") == {late_on_the_14th.pk}
    assert start_of_the_16th.pk in ids(admin, date_from="2026-01-16")
    assert late_on_the_14th.pk not in ids(admin, date_from="2026-01-15")


def test_keyset_pages_cover_every_event_once_and_stay_put_when_events_arrive(tenant, client_for):
    start = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    # 120 events, several sharing one instant: the id breaks the tie.
    made = [
        event_at(tenant, "page.view", at=start + datetime.timedelta(seconds=n // 3))
        for n in range(120)
    ]
    admin = client_for(tenant.admin, tenant.host)
    query = {"action": "page.view", "date_to": "2026-05-01"}

    seen: list[int] = []
    pages: list[list[int]] = []
    params: dict[str, str] | None = dict(query)
    with CaptureQueriesContext(connection) as queries:
        while params is not None:
            page = list_page(admin, **params)
            pages.append(shown_ids(page))
            seen += pages[-1]
            if len(pages) == 2:
                # New events arrive while someone reads: the next pages do not shift.
                for _ in range(7):
                    event_at(tenant, "page.view", at=start + datetime.timedelta(seconds=30))
            params = link(page, "next")
            assert len(pages) < 10
    expected = sorted(made, key=lambda e: (e.created_at, e.pk), reverse=True)
    assert seen == [e.pk for e in expected]
    assert len(set(seen)) == len(seen)
    assert [len(p) for p in pages] == [50, 50, 20]
    log_reads = [q["sql"] for q in queries.captured_queries if "audit_auditevent" in q["sql"]]
    assert log_reads
    assert not [sql for sql in log_reads if "COUNT(" in sql.upper() or "OFFSET" in sql.upper()]

    # And back: "Newer" from the last page gives the same pages again.
    last = list_page(admin, **query, before=str(_cursor_before(pages[1][-1], made)))
    assert shown_ids(last) == pages[2]
    newer = link(last, "prev")
    assert newer is not None
    assert shown_ids(list_page(admin, **newer)) == pages[1]


def _cursor_before(event_id: int, events: list[AuditEvent]) -> str:
    from audit.selectors import Cursor

    [event] = [e for e in events if e.pk == event_id]
    return str(Cursor.of(event))


def test_the_first_page_has_no_newer_link_and_a_short_log_no_older_one(tenant, client_for):
    event_at(tenant)
    page = list_page(client_for(tenant.admin, tenant.host))
    assert link(page, "prev") is None
    assert link(page, "next") is None


LONG = "x" * 20000
HOSTILE = [
    {"date_from": "2026-13-45"},
    {"date_from": "yesterday"},
    {"date_to": "0001-01-01"},
    {"date_to": "9999-12-31"},
    {"date_from": "2026-03-02", "date_to": "2026-03-01"},
    {"date_from": "2026-01-01\x00"},
    {"ip": "999.1.1.1"},
    {"ip": "192.0.2.1/99"},
    {"ip": "192.0.2.1'; DROP TABLE audit_auditevent; --"},
    {"ip": "\x00"},
    {"actor": LONG},
    {"actor": "ada\x00"},
    {"q": LONG},
    {"q": "\x00"},
    {"q": "x"},
    {"target_id": "1 OR 1=1"},
    {"target_id": LONG},
    {"target_type": "auth_user; --"},
    {"category": "\x00"},
    {"action": LONG},
    {"before": "abc"},
    {"before": "99999999999999999-99999999999999999999"},
    {"after": "1-\x00"},
    {"after": LONG},
]


@pytest.mark.parametrize("query", HOSTILE, ids=lambda q: repr(q)[:40])
def test_hostile_filter_values_are_form_errors_never_a_server_error(tenant, client_for, query):
    event = event_at(tenant)
    admin = client_for(tenant.admin, tenant.host)
    response = admin.get(reverse("staff:audit_log"), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'class="error-summary"' in page
    # The rest of the filter still applies; the broken part is left out.
    assert event.pk in shown_ids(page)
    # A download with that filter exports nothing: it shows the list naming the problem.
    for name in ("staff:audit_export", "staff:audit_export_jsonl"):
        download = admin.get(reverse(name), query)
        assert download.status_code == 200
        assert not download.streaming
        assert "There is a problem" in download.content.decode()


@pytest.mark.parametrize(
    "text",
    [
        "' OR '1'='1",
        "1); DELETE FROM audit_auditevent; --",
        "foo & !bar | (baz:*)",
        '"quoted" <phrase> NEAR/3',
        "%_%\\",
        "ünïcödé 💥",
    ],
)
def test_sql_and_full_text_syntax_is_searched_for_as_plain_text(tenant, client_for, text):
    plain = event_at(tenant, "page.view", details={"note": "nothing special"})
    bait = event_at(tenant, "page.view", details={"note": f"before {text} after"})
    admin = client_for(tenant.admin, tenant.host)
    for field in ("q", "actor"):
        response = admin.get(reverse("staff:audit_log"), {field: text})
        assert response.status_code == 200
        assert "There is a problem" not in response.content.decode()
    assert ids(admin, q=text) == {bait.pk}
    assert plain.pk not in ids(admin, q=text)
    with agency_context(tenant.agency):
        assert AuditEvent.objects.filter(agency=tenant.agency, pk=plain.pk).exists()


def test_the_viewer_shows_only_the_agencys_own_events(tenant, other_tenant, client_for):
    with agency_context(other_tenant.agency):
        theirs = audit.record("auth.login", agency=other_tenant.agency, details={"n": "theirs"})
    mine = event_at(tenant, "auth.login", details={"n": "theirs"})
    admin = client_for(tenant.admin, tenant.host)
    assert ids(admin, q="theirs") == {mine.pk}
    assert theirs.pk not in ids(admin)


def test_a_details_search_reads_a_bounded_window_and_its_pages_still_cover_every_match(
    tenant, client_for, monkeypatch
):
    from audit import selectors

    monkeypatch.setattr(selectors, "SEARCH_WINDOW", 10)
    monkeypatch.setattr(selectors, "SEARCH_BUDGET", 30)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    start = datetime.datetime(2026, 4, 1, tzinfo=UTC)
    events = [
        event_at(
            tenant,
            "page.view",
            at=start + datetime.timedelta(minutes=n),
            details={"note": "needle" if n % 7 == 0 or 40 <= n < 46 else "hay"},
        )
        for n in range(120)
    ]
    wanted = [e.pk for e in reversed(events) if e.details["note"] == "needle"]
    admin = client_for(tenant.admin, tenant.host)

    seen: list[int] = []
    params: dict[str, str] | None = {"q": "needle", "date_to": "2026-04-30"}
    short_pages = 0
    for _ in range(40):
        page = list_page(admin, **params)
        ids = shown_ids(page)
        assert len(ids) <= 4
        if "this search stopped at events of" in page:
            short_pages += 1
        seen += ids
        newer = link(page, "prev")
        params = link(page, "next")
        if params is None:
            break
    assert seen == wanted
    assert short_pages  # some pages ended at the budget and carried the search on
    # And back up through "Newer" from the oldest page: every match again, once each.
    back: list[int] = []
    while newer is not None:
        page = list_page(admin, **newer)
        back = shown_ids(page) + back
        newer = link(page, "prev")
        assert len(back) <= len(wanted)
    assert back + [pk for pk in wanted if pk not in back] == wanted
    assert len(set(back)) == len(back)
    assert list_page(admin, q="needle", before="1-1").count("stopped at") == 0


def test_an_event_of_another_kind_with_a_details_search_is_an_empty_list(tenant, client_for):
    # "Sign-in" events, the page-view event, and text in the details: no event can match.
    event_at(tenant, "page.view", details={"note": "budget"})
    admin = client_for(tenant.admin, tenant.host)
    query = {"category": "signin", "action": "page.view", "q": "budget"}

    assert shown_ids(list_page(admin, **query)) == []
    download = admin.get(reverse("staff:audit_export"), query)
    assert download.status_code == 200
    assert len(b"".join(download.streaming_content).decode().splitlines()) == 1  # the header
