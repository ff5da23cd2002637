"""The public search index holds exactly the requests that are public now."""

import datetime
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.tenancy import agency_context, set_db_tenant
from requests_portal.models import ClosureReason, PublicSearchEntry, RecordsRequest, Visibility
from requests_portal.services import agency_settings, clock, lifecycle, submission
from requests_portal.views import archive

pytestmark = pytest.mark.django_db


def _file(tenant, title="Budget for the monorail"):
    return submission.request_submit(
        agency=tenant.agency,
        actor=None,
        title=title,
        description=f"{title}: every document",
        contact=submission.Contact(name="Pat Private", email="pat@example.org"),
    )


def _indexed(tenant) -> set[int]:
    with agency_context(tenant.agency):
        return set(
            PublicSearchEntry.objects.filter(agency=tenant.agency).values_list(
                "request_id", flat=True
            )
        )


def test_a_published_request_is_indexed_and_leaves_the_index_when_restricted(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        request = _file(tenant)
    assert _indexed(tenant) == {request.pk}
    with agency_context(tenant.agency):
        lifecycle.request_set_visibility(
            records_request=request, actor=tenant.admin, visibility=Visibility.RESTRICTED
        )
    assert _indexed(tenant) == set()


@pytest.mark.clock
def test_an_embargoed_request_is_indexed_only_once_its_embargo_ends(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        settings_row = clock.settings_for(tenant.agency)
        settings_row.default_visibility = Visibility.EMBARGOED
        settings_row.embargo_days = 3
        settings_row.save()
        request = _file(tenant)
        reason = ClosureReason.objects.get(agency=tenant.agency, name="No responsive records")
        lifecycle.request_close(records_request=request, actor=tenant.admin, reason=reason)
    assert _indexed(tenant) == set()
    with agency_context(tenant.agency):
        # Time passing changes no row, so nothing fires the index trigger: the hourly task
        # must notice. (Backdating public_from with a write would fire it, so drop the
        # entry that write created to stand for "the embargo simply ran out".)
        RecordsRequest.objects.filter(pk=request.pk).update(
            public_from=timezone.now() - datetime.timedelta(minutes=1)
        )
        PublicSearchEntry.objects.filter(agency=tenant.agency, request=request).delete()
        assert lifecycle.publish_due_embargoes(agency=tenant.agency) == 1
        assert lifecycle.publish_due_embargoes(agency=tenant.agency) == 0
    assert _indexed(tenant) == {request.pk}


def test_the_index_holds_no_personal_data_of_the_requester(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        _file(tenant)
    columns = {f.column for f in PublicSearchEntry._meta.concrete_fields}
    # attachments_vector: the text of documents released to the public (documents.search).
    assert columns == {
        "id",
        "agency_id",
        "request_id",
        "year",
        "sequence",
        "search_vector",
        "attachments_vector",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM requests_portal_publicsearchentry")
        vectors = " ".join(row[0] for row in cursor.fetchall())
    assert "pat" not in vectors


def test_no_context_reads_the_index_but_cannot_write_it(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        request = _file(tenant)
    with transaction.atomic():
        set_db_tenant(None)
        # (Other tests commit rows of agencies of their own: count this agency's.)
        assert PublicSearchEntry.objects.filter(agency=tenant.agency).count() == 1
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            PublicSearchEntry.objects.create(
                agency=tenant.agency, request=request, year=2026, sequence=99, search_vector=""
            )


def test_archive_search_uses_the_gin_index(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        for n in range(30):
            _file(tenant, title=f"Minutes {n}")
        with connection.cursor() as cursor:
            # Nothing but the text condition, and no sequential scan to fall back on: the
            # planner may use the GIN index here because the read policy is USING (true).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT request_id FROM requests_portal_publicsearchentry "
                "WHERE search_vector @@ websearch_to_tsquery('english', 'minutes')"
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "public_search_vector" in plan


def test_a_search_with_very_many_matches_says_more_than_the_cap(tenant, client_for, monkeypatch):
    monkeypatch.setattr(archive, "SEARCH_COUNT_CAP", 3)
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        for n in range(5):
            _file(tenant, title=f"Minutes {n}")
    response = client_for(None, tenant.host).get("/archive/", {"q": "minutes"})
    assert "More than 3 requests matching" in response.content.decode()
    few = client_for(None, tenant.host).get("/archive/", {"q": "minutes 4"})
    assert "1 request matching" in few.content.decode()


def test_a_common_word_is_ranked_among_its_newest_matches(tenant, client_for, monkeypatch):
    """Past the cap, only the newest cap + 1 matches are ranked (search.newest_ranked): the
    cost of a common word does not grow with the archive. Among them the best comes first."""
    monkeypatch.setattr(archive, "SEARCH_COUNT_CAP", 3)
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        oldest_best = _file(tenant, title="Minutes minutes minutes of the minutes")
        filed = [_file(tenant, title=f"Minutes of budget meeting {n}") for n in range(3)]
        newest_best = _file(tenant, title="Minutes minutes of the council")
    body = client_for(None, tenant.host).get("/archive/", {"q": "minutes"}).content.decode()
    assert "More than 3 requests matching" in body
    shown = re.findall(r'/requests/(\d{2}-\d+)/"', body)
    assert shown[0] == newest_best.number
    assert oldest_best.number not in shown
    assert set(shown) == {newest_best.number, *(r.number for r in filed[1:])}


def test_a_common_word_past_the_few_is_walked_newest_first(tenant, client_for, monkeypatch):
    """More matches than search._FEW_FACTOR times the cap + 1: the newest are found by the
    walk over the archive, newest first, with the same result."""
    monkeypatch.setattr(archive, "SEARCH_COUNT_CAP", 1)
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        oldest_best = _file(tenant, title="Minutes minutes minutes of the minutes")
        filed = [_file(tenant, title=f"Minutes of budget meeting {n}") for n in range(9)]
    body = client_for(None, tenant.host).get("/archive/", {"q": "minutes"}).content.decode()
    assert "More than 1 request" in body
    shown = re.findall(r'/requests/(\d{2}-\d+)/"', body)
    assert oldest_best.number not in shown
    assert set(shown) == {filed[-1].number}


def test_a_common_search_walked_again_from_its_last_start_is_still_the_newest(
    tenant, client_for, monkeypatch
):
    """A search found common is walked next time from where its newest matches began
    (search._walk_starts): only a hint. Requests filed since, and matches taken out of the
    archive below the start, still give the newest cap + 1 matches."""
    from requests_portal import search

    monkeypatch.setattr(archive, "SEARCH_COUNT_CAP", 1)
    monkeypatch.setattr(search, "_walk_starts", {})

    def shown() -> set[str]:
        body = client_for(None, tenant.host).get("/archive/", {"q": "minutes"}).content.decode()
        return set(re.findall(r'/requests/(\d{2}-\d+)/"', body))

    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency)
        filed = [_file(tenant, title=f"Minutes of meeting {n}") for n in range(10)]
    assert shown() == {filed[-1].number}
    assert search._walk_starts, "the walk's start is kept for the next time"

    with agency_context(tenant.agency):
        newer = [_file(tenant, title=f"Minutes of hearing {n}") for n in range(2)]
    assert shown() == {newer[-1].number}  # the newest two, best first: one is shown

    with agency_context(tenant.agency):
        for records_request in newer:  # out of the archive: the start now holds too few
            lifecycle.request_set_visibility(
                actor=tenant.admin,
                records_request=records_request,
                visibility=Visibility.ALL_STAFF,
            )
    assert shown() == {filed[-1].number}
