"""Helpers of the audit viewer tests: events written at chosen times, and reading the
viewer's pages (which events a page shows, its keyset links)."""

from __future__ import annotations

import datetime
import html
import re
import secrets
from urllib.parse import parse_qsl

from django.db import connection
from django.urls import resolve, reverse

from accounts.tenancy import agency_context
from audit.models import AuditEvent

UTC = datetime.UTC


def event_at(tenant, action="auth.login", *, at=None, **fields) -> AuditEvent:
    """An event written straight into the table with a chosen time (the viewer reads
    times and filters; the chain's own tests cover appending). The table is partitioned by
    month: the month's partition is made first, as the retention task would have. The event
    follows the chain's head (the database refuses one that does not); its hash is made up."""
    at = at or datetime.datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_ensure_month_partition(%s)", [at.date().replace(day=1)])
    with agency_context(tenant.agency):
        with connection.cursor() as cursor:
            cursor.execute("SELECT head_hash FROM audit_lock_chain_head(%s)", [tenant.agency.pk])
            (prev_hash,) = cursor.fetchone()
        event = AuditEvent(
            agency_id=tenant.agency.pk,
            action=action,
            created_at=at,
            prev_hash=prev_hash,
            hash=secrets.token_hex(32),
            **fields,
        )
        event.save(force_insert=True)
    return event


def shown_ids(page: str) -> list[int]:
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    links = re.findall(r'href="(/staff/audit/(\d+)/)"', rows)
    for url, number in links:  # each row links to its event's page
        match = resolve(url)
        assert match.view_name == "staff:audit_event"
        assert match.kwargs == {"event_id": int(number)}
    return [int(number) for _, number in links]


def list_page(client, **query):
    response = client.get(reverse("staff:audit_log"), query)
    assert response.status_code == 200
    return response.content.decode()


def ids(client, **query) -> set[int]:
    return set(shown_ids(list_page(client, **query)))


def link(page: str, rel: str) -> dict[str, str] | None:
    found = re.search(rf'<a href="\?([^"]*)" rel="{rel}">', page)
    return dict(parse_qsl(html.unescape(found[1]))) if found else None
