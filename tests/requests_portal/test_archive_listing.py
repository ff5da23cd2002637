"""The archive listed without a query: pages by key (``?after=`` / ``?before=`` a request
number), newest first, a count that stops at a cap, and a plan that never reads the table to
count."""

import re

import pytest
from django.db import connection

from accounts.tenancy import agency_context
from requests_portal import access, keyset
from requests_portal.models import Visibility
from requests_portal.services import agency_settings, lifecycle, submission
from requests_portal.views import archive

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="\?(?:[^"]*&amp;)?(after|before)=(\d{2}-\d+)"')


def _file(tenant, n: int):
    return submission.request_submit(
        agency=tenant.agency,
        actor=None,
        title=f"Minutes of meeting {n}",
        description=f"Minutes of meeting {n}, with attachments",
        contact=submission.Contact(name="Pat Private", email="pat@example.org"),
    )


@pytest.fixture
def archive_of_eight(tenant):
    """Eight public requests and one restricted one, numbered in filing order."""
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        filed = [_file(tenant, n) for n in range(9)]
        lifecycle.request_set_visibility(
            records_request=filed[4], actor=tenant.admin, visibility=Visibility.RESTRICTED
        )
    public = [r.number for r in filed if r.pk != filed[4].pk]
    return list(reversed(public)), filed[4].number


def _numbers(body: str) -> list[str]:
    return re.findall(r'/requests/(\d{2}-\d+)/"', body)


def _links(body: str) -> dict[str, str]:
    return dict(LINK.findall(body))


def test_pages_by_key_walk_the_archive_both_ways_without_gaps_or_repeats(
    tenant, client_for, archive_of_eight, monkeypatch
):
    monkeypatch.setattr(archive, "ARCHIVE_PAGE_SIZE", 3)
    newest_first, restricted = archive_of_eight
    client = client_for(None, tenant.host)

    forward, pages, query = [], [], {}
    while True:
        body = client.get("/archive/", query).content.decode()
        pages.append(_numbers(body))
        forward += pages[-1]
        links = _links(body)
        assert ("before" in links) == (len(pages) > 1)
        if "after" not in links:
            break
        query = {"after": links["after"]}
    assert forward == newest_first
    assert restricted not in forward
    assert [len(page) for page in pages] == [3, 3, 2]

    # Back from the last page by its "Previous" link: the same pages, in reverse.
    backward = [pages[-1]]
    while "before" in links:
        body = client.get("/archive/", {"before": links["before"]}).content.decode()
        backward.append(_numbers(body))
        links = _links(body)
    assert backward == pages[::-1]


def test_filters_stay_in_the_links_to_the_next_page(
    tenant, client_for, archive_of_eight, monkeypatch
):
    monkeypatch.setattr(archive, "ARCHIVE_PAGE_SIZE", 3)
    body = client_for(None, tenant.host).get("/archive/", {"status": "open"}).content.decode()
    assert re.search(r'href="\?status=open&amp;after=\d{2}-\d+"', body)


@pytest.mark.parametrize("key", ["abc", "26-", "1-2", "26-" + "9" * 12, "x" * 5000])
def test_a_malformed_key_shows_the_first_page(tenant, client_for, archive_of_eight, key):
    newest_first, _ = archive_of_eight
    for name in ("after", "before"):
        response = client_for(None, tenant.host).get("/archive/", {name: key})
        assert response.status_code == 200
        assert _numbers(response.content.decode()) == newest_first


def test_a_key_newer_than_every_request_shows_the_first_page(tenant, client_for, archive_of_eight):
    newest_first, _ = archive_of_eight
    body = client_for(None, tenant.host).get("/archive/", {"before": "99-1"}).content.decode()
    assert _numbers(body) == newest_first


def test_the_count_stops_at_the_cap(tenant, client_for, archive_of_eight, monkeypatch):
    client = client_for(None, tenant.host)
    assert "8 requests." in client.get("/archive/").content.decode()
    monkeypatch.setattr(archive, "SEARCH_COUNT_CAP", 5)
    assert "More than 5 requests:" in client.get("/archive/").content.decode()


def test_the_listing_count_can_be_answered_from_the_index_alone(tenant, archive_of_eight):
    """The capped count needs nothing the listing index lacks: its rows are exactly those
    that may be public (partial, same predicate as access.public_requests), keyed by agency
    and number, and it carries every column the count's filter reads (INCLUDE), so an
    index-only scan can answer it without reading the table. Which plan PostgreSQL picks
    depends on the table's size: on a few test rows any index will do; at 1,000,000 requests
    the bench's EXPLAIN shows an Index Only Scan of it (docs/architecture.md)."""
    with agency_context(tenant.agency), connection.cursor() as cursor:
        assert keyset.count_capped(access.public_requests(tenant.agency), 1000) == 8
        listed = access.public_requests(tenant.agency).order_by().values("sequence")[:1001]
        sql, _params = listed.query.sql_with_params()
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid), pg_get_expr(indpred, indrelid) "
            "FROM pg_index WHERE indexrelid = 'request_public_listing'::regclass"
        )
        definition, predicate = cursor.fetchone()
    keys, included = definition.split("USING btree (")[1].split(") INCLUDE (")
    assert keys == "agency_id, year, sequence"
    covered = {"agency_id", "year", "sequence", *included.split(")")[0].split(", ")}
    read_by_the_count = {"agency_id", "sequence", "visibility", "public_from"}
    assert read_by_the_count <= covered
    # The index holds the rows that may be public: never a held description, only the two
    # visibilities the public may read (embargoed ones once their date has come).
    assert "NOT description_held" in predicate
    assert "'published'" in predicate and "'embargoed'" in predicate
    for column in read_by_the_count | {"description_held"}:
        assert column in sql, (column, sql)
