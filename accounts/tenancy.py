"""The tenant context: which agency a request or task is about, told to PostgreSQL.

Every tenant-owned table has a FORCEd row-level-security policy comparing its ``agency_id``
with the ``app.agency_id`` setting of the current transaction (see accounts/rls.py). The
setting is made with ``set_config(..., is_local => true)`` so it ends with the transaction and
never leaks to the next request that reuses the connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from celery.contrib.django.task import DjangoTask
from django.conf import settings
from django.db import connection, transaction

import audit
from accounts import host_cache
from accounts.models import Agency, TenantOwned
from audit.chain import set_rls_context

Row = TypeVar("Row", bound=TenantOwned)

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)
_PORT = re.compile(r"[0-9]{1,5}", re.ASCII)

PLATFORM = object()  # the bare base domain: platform pages, no agency


def parse_host(raw_host: str) -> str | None:
    """Lower-cased host name without port, or None if the header is malformed.

    Nothing is stripped: a header that Django's own get_host() would refuse (whitespace,
    control characters) must be refused here too, as a 404, before Django ever sees it.
    """
    host = raw_host.lower()
    if host.count(":") == 1:
        host, port = host.split(":")
        if not _PORT.fullmatch(port) or int(port) > 65535:
            return None
    host = host.removesuffix(".")
    if not host or len(host) > 253 or not _HOSTNAME.fullmatch(host):
        return None
    return host


def resolve_host(raw_host: str):
    """Agency for the host, PLATFORM for the base domain, or None (answered with 404)."""
    host = parse_host(raw_host)
    if host is None:
        return None
    base = settings.PORTAL_BASE_DOMAIN
    if host == base:
        return PLATFORM
    if host.endswith("." + base):
        slug = host[: -len(base) - 1]
        if "." in slug:
            return None
        return host_cache.lookup(
            host, lambda: Agency.objects.filter(slug=slug, is_active=True).first()
        )
    return host_cache.lookup(
        host, lambda: Agency.objects.filter(custom_domain=host, is_active=True).first()
    )


def agency_origin(agency: Agency) -> str:
    """The agency's own address, for links built outside a web request (tasks, commands)."""
    host = agency.custom_domain or f"{agency.slug}.{settings.PORTAL_BASE_DOMAIN}"
    port = settings.PORTAL_PUBLIC_PORT
    scheme = "https" if settings.IS_PRODUCTION else "http"
    return f"{scheme}://{host}{':' + port if port else ''}"


def platform_origin() -> str:
    """The platform's own address (the bare base domain), for links to the main site."""
    port = settings.PORTAL_PUBLIC_PORT
    scheme = "https" if settings.IS_PRODUCTION else "http"
    return f"{scheme}://{settings.PORTAL_BASE_DOMAIN}{':' + port if port else ''}"


def set_db_tenant(agency_id: int | None, *, platform: bool = False) -> None:
    """Set the RLS context for the rest of the current transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("The tenant context can only be set inside a transaction.")
    set_rls_context(agency_id, platform=platform)


def current_db_tenant() -> int | None:
    return current_db_context()[0]


def current_db_context() -> tuple[int | None, bool]:
    """(agency id, platform flag) of the current transaction."""
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- reads the RLS context settings (no ORM call)
        cursor.execute(
            "SELECT current_setting(%s, true), current_setting(%s, true)",
            [settings.TENANT_DB_SETTING, settings.PLATFORM_DB_SETTING],
        )
        agency_id, platform = cursor.fetchone()
    return (int(agency_id) if agency_id else None), platform == "on"


def lock_tenant_row(row: Row, **also: object) -> Row:
    """Re-read a tenant row, already fetched through an access helper, under a row lock.

    Services re-read before a state check so two writers run one after the other. The read
    is scoped to the row's own agency (and any ``also`` conditions), so even a primary key
    that came from somewhere else can only miss, never reach another agency's row; RLS is
    the second wall behind it.
    """
    # _default_manager: TenantOwned is abstract, so its subclasses' ``objects`` is unknown
    # to the type checker (none of them declares another manager: it is ``objects``).
    model = type(row)
    return model._default_manager.select_for_update().get(agency=row.agency_id, pk=row.pk, **also)


@contextmanager
def agency_context(
    agency: Agency | int | None, *, platform: bool = False, lazy: bool = False
) -> Iterator[None]:
    """Run a block in a transaction whose RLS context is ``agency`` (or the platform).

    Nested use (seeding several agencies, tests, a request inside a test) restores the outer
    context on exit.

    ``lazy`` (the web request's own transaction): the context is set just before the
    transaction's first statement instead of at once, so a page that asks the database
    nothing (a cached page, a redirect) sends neither BEGIN, the context, nor COMMIT. Every
    statement still runs under the context: none can reach the server before it.
    """
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    nested = connection.in_atomic_block
    if lazy and not nested:
        with transaction.atomic(), _context_before_first_statement(agency_id, platform=platform):
            yield
        return
    outer = current_db_context() if nested else None
    with transaction.atomic():
        set_db_tenant(agency_id, platform=platform)
        yield
        # After an exception, or a block marked for rollback, the savepoint's rollback
        # restores the outer setting by itself.
        if outer is not None and not connection.needs_rollback:
            set_db_tenant(outer[0], platform=outer[1])


@contextmanager
def _context_before_first_statement(agency_id: int | None, *, platform: bool) -> Iterator[None]:
    """In a transaction that has just begun (nothing sent yet): set its RLS context right
    before the first statement that goes through Django's cursors (every query, savepoint
    and raw SQL of the portal does; one that bypassed them would run with no agency, which
    RLS answers with no rows). The context goes out with the transaction's BEGIN, in one
    round trip (audit.chain.set_rls_context), then the statement."""
    pending = True

    def set_first(execute, sql, params, many, context):
        nonlocal pending
        if pending:
            pending = False  # before the call: set_rls_context's own statement passes through
            set_db_tenant(agency_id, platform=platform)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(set_first):
        yield


class TenantTask(DjangoTask):
    """Default base of every Celery task: runs inside its agency's RLS context.

    Tasks take ids, never model instances, and ``agency_id`` is a required keyword argument,
    so a task that forgot its tenant fails loudly instead of quietly seeing nothing.
    DjangoTask adds ``delay_on_commit``: enqueue only once the caller's transaction commits.
    """

    def __call__(self, *args, **kwargs):
        if "agency_id" not in kwargs:
            raise TypeError(f"Task {self.name} must be called with agency_id=...")
        grant = _grant_of(self.request)
        with agency_context(kwargs["agency_id"]):
            if grant is None:
                return super().__call__(*args, **kwargs)
            # Work asked for under support access stays under it: every event the task
            # records carries the grant, as the request's own events do.
            with audit.acting_as_grant(grant, agency_id=kwargs["agency_id"]):
                return super().__call__(*args, **kwargs)

    def apply_async(self, args=None, kwargs=None, **options):
        return super().apply_async(args, kwargs, **with_grant_header(kwargs, options))

    def apply_async_on_commit(self, args=None, kwargs=None, **options):
        # The grant is read now: by the time the transaction commits, the request's
        # support-access block may have ended.
        return super().apply_async_on_commit(args, kwargs, **with_grant_header(kwargs, options))

    def delay_on_commit(self, *args, **kwargs):
        return self.apply_async_on_commit(args, kwargs)


GRANT_HEADER = "acting_as_grant"


def with_grant_header(kwargs: dict | None, options: dict) -> dict:
    """``options`` for apply_async, carrying the support grant the caller acts under on the
    task's agency (a message header, so no task signature changes)."""
    grant = audit.current_grant((kwargs or {}).get("agency_id"))
    if grant is None:
        return options
    return {**options, "headers": {**(options.get("headers") or {}), GRANT_HEADER: grant}}


def _grant_of(task_request) -> int | None:
    # A worker puts custom headers on the request itself and in .headers; an eager run only
    # in .headers.
    headers = getattr(task_request, "headers", None) or {}
    value = headers.get(GRANT_HEADER, getattr(task_request, GRANT_HEADER, None))
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def for_each_active_agency(task: TenantTask) -> int:
    """Beat's platform-wide schedule fans out to one ``task`` per active agency, each in its
    own agency's context; returns how many were sent."""
    agency_ids = list(Agency.objects.filter(is_active=True).values_list("pk", flat=True))
    for agency_id in agency_ids:
        task.delay(agency_id=agency_id)
    return len(agency_ids)
