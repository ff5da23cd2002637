"""The deep health checks (issue 13, monitoring): what ``/healthz/deep`` reports to operators
and what the public status page summarises.

Each check answers a ``Check``: ``ok``, ``fail`` or ``not configured`` (a component this
deployment does not run, such as Redis in development), a detail for operators (an error's
text: never shown on the public page) and, for backups and seals, the time of the newest one.
A check never raises: whatever goes wrong is its ``fail``.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from accounts.tenancy import agency_context
from audit.seals import format as seal_format
from audit.seals.store import seal_store
from ops import backups
from ops.models import Incident
from vault.locations import documents_store, locations

logger = logging.getLogger(__name__)

OK, FAIL, NOT_CONFIGURED = "ok", "fail", "not configured"


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str = ""
    at: datetime | None = None  # the newest backup's or seal's time (UTC)

    def as_json(self) -> dict[str, str | None]:
        return {
            "status": self.status,
            "detail": self.detail,
            "at": self.at.astimezone(UTC).isoformat(timespec="seconds") if self.at else None,
        }


def check_database() -> Check:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the cheapest query that proves the database answers
        cursor.execute("SELECT 1")
    return Check("database", OK)


def check_cache() -> Check:
    cache = caches["default"]
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        return Check("cache", NOT_CONFIGURED, "no Redis: the cache is each process's memory")
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    found = cache.get(key)
    cache.delete(key)
    if found != value:
        return Check("cache", FAIL, "Redis did not return what was written")
    return Check("cache", OK)


def check_storage() -> Check:
    """A blob written and deleted in every storage location's documents store."""
    for where in locations():
        store = documents_store(where)
        name = f"healthz/{secrets.token_hex(12)}"
        store.write(name, [b"healthz"])
        store.delete(name)
    return Check("storage", OK)


def check_migrations() -> Check:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        return Check("migrations", FAIL, f"{len(plan)} not applied: {names}")
    return Check("migrations", OK)


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_backup(now: datetime | None = None) -> Check:
    now = now or datetime.now(UTC)
    manifests = [entry.manifest for entry in backups.list_backups() if entry.manifest]
    if not manifests:
        return Check("backup", FAIL, "no complete backup")
    manifest = manifests[0]
    finished = _parse_time(manifest.finished)
    limit = timedelta(hours=settings.MONITORING.backup_stale_hours)
    if now - finished > limit:
        return Check("backup", FAIL, f"the newest backup ({manifest.id}) is late", finished)
    return Check("backup", OK, manifest.id, finished)


def _newest_seal() -> tuple[datetime | None, int]:
    """The newest seal's time over every chain, and the platform chain's sealed head id."""
    store = seal_store()
    listing = store.listing()
    newest_by_chain: dict[str, str] = {}
    for name in sorted(listing):  # seals/<chain>/<seq>.json, oldest first
        newest_by_chain[name.split("/")[1]] = name
    newest: datetime | None = None
    platform_head = 0
    for chain, name in newest_by_chain.items():
        seal = seal_format.parse(store.get(listing[name]))
        sealed_at = _parse_time(seal.sealed_at)
        newest = sealed_at if newest is None or sealed_at > newest else newest
        if chain == seal_format.chain_name(None):
            platform_head = seal.head_id
    return newest, platform_head


def check_seal(now: datetime | None = None) -> Check:
    """Late when an event of the platform chain has waited longer than the limit for a seal
    (a chain that did not move is not sealed again, so the seal's own age alone says little)."""
    now = now or datetime.now(UTC)
    newest, platform_head = _newest_seal()
    with agency_context(None, platform=True), connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # nosemgrep: portal-raw-sql -- the oldest unsealed platform event; bound parameter
        cursor.execute(
            "SELECT min(created_at) FROM audit_auditevent WHERE agency_id IS NULL AND id > %s",
            [platform_head],
        )
        oldest_unsealed = cursor.fetchone()[0]
    limit = timedelta(hours=settings.MONITORING.seal_stale_hours)
    if oldest_unsealed is not None and now - oldest_unsealed > limit:
        return Check("seal", FAIL, "audit events have waited too long for a seal", newest)
    return Check("seal", OK, "", newest)


CHECKS: tuple[tuple[str, Callable[[], Check]], ...] = (
    ("database", check_database),
    ("cache", check_cache),
    ("storage", check_storage),
    ("migrations", check_migrations),
    ("backup", check_backup),
    ("seal", check_seal),
)


def run_checks() -> list[Check]:
    """Every check; one that raises is that component's failure (logged for operators)."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(check())
        except Exception as error:  # noqa: BLE001 (any failure is the component's)
            logger.warning("healthz/deep: %s failed: %s", name, type(error).__name__)
            results.append(Check(name, FAIL, f"{type(error).__name__}: {error}"[:300]))
    return results


_public_lock = threading.Lock()
_public_results: tuple[float, list[Check]] | None = None


def public_checks(max_age: float = 30.0) -> list[Check]:
    """The checks for the public status page, run at most every ``max_age`` seconds per
    process: a visitor reloading the page does not write to storage and Redis each time."""
    global _public_results
    with _public_lock:
        if _public_results is None or time.monotonic() - _public_results[0] > max_age:
            _public_results = (time.monotonic(), run_checks())
        return _public_results[1]


def forget_public_checks() -> None:
    global _public_results
    with _public_lock:
        _public_results = None


def open_incidents() -> list[Incident]:
    return list(Incident.objects.exclude(status=Incident.Status.RESOLVED)[:20])


def recent_resolved_incidents(days: int = 14) -> list[Incident]:
    since = datetime.now(UTC) - timedelta(days=days)
    return list(
        Incident.objects.filter(status=Incident.Status.RESOLVED, resolved_at__gte=since)[:20]
    )


def healthy(results: list[Check]) -> bool:
    return all(result.status != FAIL for result in results)
