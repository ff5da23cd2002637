"""The staff search's word index (StaffSearchTerm): it follows every write of a request's
text, stays the agency's own, and lets a search under row-level security use a btree with
leakproof equality instead of reading every row of the agency."""

import importlib
from types import SimpleNamespace

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import DatabaseError, connection, transaction

from accounts.tenancy import agency_context, set_db_tenant
from requests_portal import access
from requests_portal.models import RecordsRequest, StaffSearchTerm
from requests_portal.search import newest_ranked_requests, search
from requests_portal.services import submission

pytestmark = pytest.mark.django_db


def _file(tenant, title: str, description: str = "every document"):
    return submission.request_submit(
        agency=tenant.agency,
        actor=None,
        title=title,
        description=description,
        contact=submission.Contact(name="Pat Private", email="pat@example.org"),
    )


def _words(tenant, request) -> set[str]:
    with agency_context(tenant.agency):
        return set(StaffSearchTerm.objects.filter(request=request).values_list("lexeme", flat=True))


def test_the_index_follows_the_request_text_in_the_same_transaction(tenant):
    with agency_context(tenant.agency):
        request = _file(tenant, "Monorail budget", "Invoices of the contractor")
        assert _words(tenant, request) == {"monorail", "budget", "invoic", "contractor"}
        assert set(
            StaffSearchTerm.objects.filter(request=request).values_list("agency_id", flat=True)
        ) == {tenant.agency.pk}
        RecordsRequest.objects.filter(pk=request.pk).update(title="Ferry timetable")
        assert _words(tenant, request) == {"ferri", "timet", "invoic", "contractor"}
        # A write that leaves the text alone leaves the rows alone.
        ids = set(StaffSearchTerm.objects.filter(request=request).values_list("pk", flat=True))
        RecordsRequest.objects.filter(pk=request.pk).update(title="Ferry timetable")
        assert (
            set(StaffSearchTerm.objects.filter(request=request).values_list("pk", flat=True)) == ids
        )


def test_another_agency_neither_reads_nor_writes_the_index(tenant, other_tenant):
    with agency_context(tenant.agency):
        request = _file(tenant, "Monorail budget")
    with agency_context(other_tenant.agency):
        assert not StaffSearchTerm.objects.exists()
        assert not search(RecordsRequest.objects.all(), "monorail").exists()
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            StaffSearchTerm.objects.create(agency=tenant.agency, request=request, lexeme="x")
    with transaction.atomic():
        set_db_tenant(None)
        assert not StaffSearchTerm.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "monorail",
        "monorail budget",
        '"monorail budget"',
        "monorail or ferry",
        "monorail -budget",
        "-monorail",
        "the",
        "ferries timetable",
        "nothingmatches",
    ],
)
def test_the_search_finds_exactly_what_the_full_query_finds(tenant, text):
    with agency_context(tenant.agency):
        titles = [
            "Monorail budget",
            "Budget of the monorail",
            "Monorail maintenance",
            "Ferry timetable",
            "Budget hearings",
        ]
        for title in titles:
            _file(tenant, title)
        staff = access.staff_requests_for(tenant.admin, tenant.agency)
        expected = set(
            staff.filter(
                search_vector=SearchQuery(text, search_type="websearch", config="english")
            ).values_list("pk", flat=True)
        )
        assert set(search(staff, text).values_list("pk", flat=True)) == expected


def test_the_search_uses_the_word_index_under_row_level_security(tenant):
    with agency_context(tenant.agency):
        for n in range(30):
            _file(tenant, f"Minutes {n}")
        staff = access.staff_requests_for(tenant.admin, tenant.agency)
        sql, params = search(staff, "minutes").query.sql_with_params()
        with connection.cursor() as cursor:
            # No sequential scan to fall back on: only a leakproof lookup can use an index
            # ahead of the policy, and the word index's is one.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
    # Through one of its indexes (the word index, or the request link's: both compare with
    # leakproof equality; which one the planner picks depends on the table's statistics).
    word_table = [line for line in plan if "requests_portal_staffsearchterm" in line]
    assert word_table, plan
    assert not [line for line in word_table if "Seq Scan" in line], plan


def test_the_operators_the_index_relies_on_are_leakproof(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, proleakproof FROM pg_proc WHERE proname IN ('texteq', 'int8eq')"
        )
        assert dict(cursor.fetchall()) == {"texteq": True, "int8eq": True}


def test_the_newest_matches_are_ranked_best_first(tenant):
    with agency_context(tenant.agency):
        in_title = _file(tenant, "Monorail budget")
        newer = _file(tenant, "Budget hearings", "About the monorail, among others")
        _file(tenant, "Ferry timetable")
        staff = access.staff_requests_for(tenant.admin, tenant.agency)
        assert newest_ranked_requests(tenant.agency, staff, "monorail", 10) == [
            in_title.pk,
            newer.pk,
        ]
        # Past the cap, only the newest cap + 1 are ranked.
        assert newest_ranked_requests(tenant.agency, staff, "monorail", 0) == [newer.pk]


def _reference(matches, cap: int) -> list[int]:
    """The rule itself, on every match: the newest cap + 1, best first."""
    rows = list(matches.order_by("-year", "-sequence").values_list("pk", "rank")[: cap + 1])
    return [pk for pk, _rank in sorted(rows, key=lambda row: -row[1])]


@pytest.mark.parametrize(
    "text", ["monorail", "monorail budget", "monorail or ferry", "budget -ferry", "-ferry"]
)
def test_the_word_index_window_finds_the_newest_matches(tenant, text):
    """A window on the word index widens until it holds cap + 1 matches: the newest
    "monorail" requests lack "budget", so "monorail budget" needs a wider one."""
    with agency_context(tenant.agency):
        for n in range(6):
            _file(tenant, f"Monorail budget {n}", "Monorail budget monorail" if n % 2 else "x")
        for n in range(12):
            _file(tenant, f"Ferry monorail {n}")
        staff = access.staff_requests_for(tenant.admin, tenant.agency)
        for cap in (0, 1, 2, 4, 30):
            assert newest_ranked_requests(tenant.agency, staff, text, cap) == _reference(
                search(staff, text), cap
            ), cap


def test_the_window_gives_the_same_answer_when_a_filter_leaves_few_matches(tenant):
    """A staff filter (here, two old requests) leaves the newest windows without a match, or
    with too few: the search still finds exactly the filtered matches, ranked."""
    with agency_context(tenant.agency):
        kept = [_file(tenant, f"Ferry monorail contracts {n}") for n in range(2)]
        for n in range(40):
            _file(tenant, f"Ferry monorail {n}")
        staff = access.staff_requests_for(tenant.admin, tenant.agency)
        narrow = staff.filter(pk__in=[r.pk for r in kept])
        for text in ("monorail", "ferry or monorail", "contracts monorail"):
            for cap in (0, 1, 2):
                found = newest_ranked_requests(tenant.agency, narrow, text, cap)
                assert found == _reference(search(narrow, text), cap), (text, cap)
                assert set(found) <= {r.pk for r in kept}
        # Stop words only: nothing can match.
        assert newest_ranked_requests(tenant.agency, staff, "the of", 0) == []


def test_the_migration_indexes_the_requests_filed_before_it(tenant, other_tenant):
    backfill = importlib.import_module("requests_portal.migrations.0019_index_staff_search_terms")
    filed = []
    for each in (tenant, other_tenant):
        with agency_context(each.agency):
            request = _file(each, "Monorail budget")
            filed.append((each, request, _words(each, request)))
            StaffSearchTerm.objects.filter(request=request).delete()
            assert _words(each, request) == set()
    backfill.index_existing_requests(None, SimpleNamespace(connection=connection))
    for each, request, words in filed:
        assert words and _words(each, request) == words


def test_the_agency_column_has_no_index_but_the_word_index(db):
    """The word index leads with the agency; a second index on the agency alone only slowed
    every write of a request's text (migration 0020 drops it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'requests_portal_staffsearchterm'"
        )
        by_agency = [row[0] for row in cursor.fetchall() if "(agency_id" in row[0]]
    assert len(by_agency) == 1 and "staff_search_term" in by_agency[0]
