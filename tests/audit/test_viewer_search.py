"""The viewer's search in details: it finds every event whose details contain the text, as
typed and in any case, including parts of words and text across the JSON's punctuation
(which a full-text word search would miss), never one that does not, and never another
agency's; pages stay full keyset pages; hostile text is only ever text."""

from __future__ import annotations

import datetime

import pytest

from tests.audit.viewer_helpers import event_at, ids, link, list_page, shown_ids

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("details", "text"),
    [
        ({"path": "/staff/requests/26-1234/"}, "requests/26-12"),  # across punctuation
        ({"note": "Subpoena served"}, "SUBPOENA"),  # any case
        ({"note": "subpoena"}, "bpoe"),  # inside a word
        ({"note": "Ünïcödé"}, "ünïc"),  # case of non-ASCII letters
        ({"view": "staff:request_detail"}, "FF:REQUEST_de"),  # across a colon, any case
        ({"note": 'say "hi"\nbye'}, 'say "hi"\nbye'),  # a quote and a newline
        ({"note": "x" * 3000 + "needle"}, "xneedle"),  # a long text, at its end
    ],
)
def test_the_search_finds_the_text_as_typed_wherever_it_is(tenant, client_for, details, text):
    found = event_at(tenant, "page.view", details=details)
    other = event_at(tenant, "page.view", details={"note": "nothing to see"})
    admin = client_for(tenant.admin, tenant.host)
    shown = ids(admin, q=text)
    assert found.pk in shown
    assert other.pk not in shown


def test_only_events_with_the_whole_text_are_shown(tenant, client_for):
    # Every word and every three letters of "abcdef" are in the second event, not the text.
    whole = event_at(tenant, "page.view", details={"note": "abcdef"})
    pieces = event_at(tenant, "page.view", details={"note": "abcd bcde cdef"})
    admin = client_for(tenant.admin, tenant.host)
    assert ids(admin, q="abcdef") == {whole.pk}
    assert pieces.pk in ids(admin, q="bcde")


def test_another_agencys_events_are_not_found(tenant, other_tenant, client_for):
    theirs = event_at(other_tenant, "page.view", details={"note": "shared-word"})
    mine = event_at(tenant, "page.view", details={"note": "shared-word"})
    admin = client_for(tenant.admin, tenant.host)
    assert ids(admin, q="shared-word") == {mine.pk}
    assert theirs.pk not in ids(admin, q="shared-word")


@pytest.mark.parametrize(
    "text",
    [
        "') OR 1=1; --",
        "lower(details::text)",
        "{a,b,c}",  # array literal syntax
        "7:abc",
        "%%%",
        "\\\\\\",
        "___",
    ],
)
def test_hostile_text_is_only_text(tenant, client_for, text):
    plain = event_at(tenant, "page.view", details={"note": "7 abc nothing"})
    bait = event_at(tenant, "page.view", details={"note": f"[{text}]"})
    admin = client_for(tenant.admin, tenant.host)
    page = list_page(admin, q=text)
    assert "There is a problem" not in page
    assert set(shown_ids(page)) == {bait.pk}
    assert plain.pk not in shown_ids(page)


def test_pages_of_a_search_are_full_keyset_pages_that_cover_every_match(
    tenant, client_for, monkeypatch
):
    from audit import selectors

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
    newer = None
    while params is not None:
        page = list_page(admin, **params)
        ids = shown_ids(page)
        assert "stopped at" not in page
        assert len(ids) == 4 or link(page, "next") is None  # only the last page is short
        seen += ids
        newer = link(page, "prev")
        params = link(page, "next")
        assert len(seen) <= len(wanted)
    assert seen == wanted
    back: list[int] = []
    while newer is not None:
        page = list_page(admin, **newer)
        back = shown_ids(page) + back
        newer = link(page, "prev")
        assert len(back) <= len(wanted)
    assert back + [pk for pk in wanted if pk not in back] == wanted
    assert len(set(back)) == len(back)


def test_a_page_read_leaves_the_planner_settings_as_they_were(tenant):
    """The keyset reads turn bitmap scans off for themselves only (audit/selectors.py,
    _read_along_the_key): the rest of the request plans as before."""
    from django.db import connection

    from accounts.tenancy import agency_context
    from audit.selectors import EventFilters, keyset_page

    found = event_at(tenant, "page.view", details={"note": "planner"})
    with agency_context(tenant.agency), connection.cursor() as cursor:
        for filters in (EventFilters(), EventFilters(search="planner"), EventFilters(search="pl")):
            page = keyset_page(tenant.agency.pk, filters)
            assert found.pk in [event.pk for event in page.events]
            cursor.execute("SELECT current_setting('enable_bitmapscan')")
            assert cursor.fetchone()[0] == "on"
