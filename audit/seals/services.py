"""Sealing every audit chain, and checking every chain against its seals.

``seal_chains`` (hourly, and ``manage.py audit_seal``) seals each chain whose head moved since
its newest seal; a chain whose head did not move gets no new seal (its newest seal still
covers it), so quiet agencies do not fill the store. ``verify_chains`` (nightly, and
``manage.py audit_verify``) recomputes every chain and checks it against every seal.
Both record a platform audit event of their run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.apps import apps
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction

import audit
from audit.chain import _LOCK_CLASS, verify_chain
from audit.chain import set_chain_context as _context
from audit.seals import format as seals
from audit.seals.store import SealExists, SealStore, StoredSeal, seal_store
from vault.storage import StorageError

log = logging.getLogger("audit.seals")
_SEAL_LOCK = -1  # in the chains' advisory-lock class; no agency has this id
_PROBLEMS_IN_EVENT = 20  # problems copied into the run's audit event (all are logged)


# --- Alerts --------------------------------------------------------------------------------


def operator_addresses() -> list[str]:
    if settings.OPERATOR_EMAILS:
        return list(settings.OPERATOR_EMAILS)
    return [address for _name, address in getattr(settings, "ADMINS", [])]


def alert(subject: str, lines: Iterable[str], *, email: bool = True) -> None:
    """Tell the operators: an ERROR log line, a Sentry message (when Sentry is configured)
    and, with ``email``, a message to OPERATOR_EMAILS (or ADMINS)."""
    text = "\n".join(lines)
    log.error("%s\n%s", subject, text)
    try:
        import sentry_sdk

        sentry_sdk.capture_message(f"{subject}\n{text}", level="error")
    except ImportError:  # pragma: no cover (sentry-sdk is a dependency)
        pass
    recipients = operator_addresses()
    if email and recipients:
        send_mail(f"[Records Portal] {subject}", text + "\n", None, recipients)


# --- Chains ----------------------------------------------------------------------------------


def _agencies() -> dict[int, str]:
    tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
    return dict(tenant_model.objects.order_by("pk").values_list("pk", "slug"))


def _expunged_agencies() -> dict[int, str]:
    """Agencies expunged on purpose (ops/expunge.py), by id: slug. Read from their platform
    events, which the platform chain (sealed itself) vouches for."""
    from audit.audit_events import AGENCY_EXPUNGED
    from audit.models import AuditEvent

    with transaction.atomic():
        _context(None)
        rows = AuditEvent.objects.filter(
            agency__isnull=True, action=AGENCY_EXPUNGED.code
        ).values_list("details", flat=True)
        found: dict[int, str] = {}
        for details in rows:
            if isinstance(details, dict) and isinstance(details.get("agency_id"), int):
                found[details["agency_id"]] = str(details.get("slug") or "")
        return found


def _head(agency_id: int | None) -> tuple[int, str] | None:
    """The chain's newest event (id, hash); the chain's context must be set."""
    with connection.cursor() as cursor:
        if agency_id:
            # nosemgrep: portal-raw-sql -- the chain head by index, without the ORM's model; bound
            cursor.execute(
                "SELECT id, hash FROM audit_auditevent WHERE agency_id = %s "
                "ORDER BY id DESC LIMIT 1",
                [agency_id],
            )
        else:
            # nosemgrep: portal-raw-sql -- the platform chain head by index; fixed SQL
            cursor.execute(
                "SELECT id, hash FROM audit_auditevent WHERE agency_id IS NULL "
                "ORDER BY id DESC LIMIT 1"
            )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _hash_of(event_id: int) -> str | None:
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- one event's hash; bound parameter
        cursor.execute("SELECT hash FROM audit_auditevent WHERE id = %s", [event_id])
        row = cursor.fetchone()
    return row[0] if row else None


def _count(agency_id: int | None, after_id: int, upto_id: int) -> int:
    with connection.cursor() as cursor:
        if agency_id:
            # nosemgrep: portal-raw-sql -- count between two seals; bound parameters
            cursor.execute(
                "SELECT count(*) FROM audit_auditevent "
                "WHERE agency_id = %s AND id > %s AND id <= %s",
                [agency_id, after_id, upto_id],
            )
        else:
            # nosemgrep: portal-raw-sql -- count between two seals (platform); bound parameters
            cursor.execute(
                "SELECT count(*) FROM audit_auditevent "
                "WHERE agency_id IS NULL AND id > %s AND id <= %s",
                [after_id, upto_id],
            )
        count: int = cursor.fetchone()[0]
    return count


def _by_chain(listing: dict[str, StoredSeal]) -> dict[str, list[StoredSeal]]:
    chains: dict[str, list[StoredSeal]] = {}
    for name, stored in sorted(listing.items()):
        chains.setdefault(name.split("/")[1], []).append(stored)
    return chains


def _label(agency_id: int | None, slug: str) -> str:
    return "platform" if agency_id is None else f"agency {agency_id} ({slug or 'deleted'})"


# --- Sealing ---------------------------------------------------------------------------------


@dataclass
class SealRun:
    sealed: list[str] = field(default_factory=list)  # seal names written
    unchanged: int = 0  # chains whose head had not moved
    failed: list[str] = field(default_factory=list)  # chains the store refused: retried
    problems: list[str] = field(default_factory=list)  # chains not sealed: see audit_verify

    @property
    def ok(self) -> bool:
        return not self.failed and not self.problems


def _seal_one(
    store: SealStore,
    stored: list[StoredSeal],
    agency_id: int | None,
    slug: str,
    now: datetime,
    run: SealRun,
) -> None:
    chain = seals.chain_name(agency_id)
    label = _label(agency_id, slug)
    previous = None
    if stored:
        try:
            previous = seals.parse(store.get(stored[-1]))
        except seals.SealFormatError:
            run.problems.append(f"{label}: its newest seal {stored[-1].name} is unreadable")
            return
        problem = seals.signature_problem(previous, seals.verification_keys())
        if problem:
            run.problems.append(f"{label}: its newest seal {stored[-1].name}: {problem}")
            return
    head = _head(agency_id)
    if head is None:
        if previous is not None:
            run.problems.append(f"{label}: sealed events are gone (the chain is empty)")
        return
    if previous is not None:
        if head[0] == previous.head_id and head[1] == previous.head_hash:
            run.unchanged += 1
            return
        if _hash_of(previous.head_id) != previous.head_hash:
            run.problems.append(
                f"{label}: the event sealed at position {previous.events} "
                f"(event {previous.head_id}) is gone or changed; not sealed"
            )
            return
    events = (previous.events if previous else 0) + _count(
        agency_id, previous.head_id if previous else 0, head[0]
    )
    seq = previous.seq + 1 if previous else 1
    seal = seals.sign(
        seals.Seal(
            format=seals.FORMAT,
            chain=chain,
            agency_id=agency_id,
            agency_slug=slug,
            seq=seq,
            head_id=head[0],
            head_hash=head[1],
            events=events,
            sealed_at=now.astimezone(UTC).isoformat(timespec="microseconds"),
            prev_seal=previous.digest if previous else seals.GENESIS_SEAL,
            key_id="",
        )
    )
    name = seals.seal_name(chain, seq)
    try:
        store.put(name, seal.to_bytes())
    except SealExists:
        run.problems.append(f"{label}: {name} already exists (another sealer?); not sealed")
        return
    run.sealed.append(name)


def seal_chains(*, now: datetime | None = None) -> SealRun:
    """Seal the head of every chain (the platform's and every agency's) that moved.

    A store that cannot be reached leaves the chain in ``failed`` (the task retries: nothing
    is dropped); a chain whose sealed past no longer matches is left unsealed, in
    ``problems``, with an alert. One platform audit event records the run."""
    now = now or datetime.now(UTC)
    store = seal_store()
    run = SealRun()
    with transaction.atomic():
        with connection.cursor() as cursor:  # one sealer at a time
            # nosemgrep: portal-raw-sql -- an advisory lock; the ORM has none; bound parameters
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_CLASS, _SEAL_LOCK])
        agencies = _agencies()
        try:
            listing = _by_chain(store.listing())
        except StorageError as error:
            run.failed = [f"every chain: the seal store could not be read: {error}"]
            agencies, listing = {}, {}
        for agency_id, slug in [(None, ""), *agencies.items()] if not run.failed else []:
            _context(agency_id)
            try:
                _seal_one(
                    store, listing.get(seals.chain_name(agency_id), []), agency_id, slug, now, run
                )
            except StorageError as error:
                run.failed.append(f"{_label(agency_id, slug)}: {error}")
    with transaction.atomic():
        _context(None)
        audit.record(
            "audit.chains_sealed",
            agency=None,
            details={
                "sealed": len(run.sealed),
                "unchanged": run.unchanged,
                "failed": len(run.failed),
                "problems": run.problems[:_PROBLEMS_IN_EVENT],
            },
        )
    if run.failed:
        alert("Audit seals could not be written (will retry)", run.failed, email=False)
    if run.problems:
        alert("Audit chains were not sealed: run audit_verify", run.problems)
    return run


# --- Verifying -------------------------------------------------------------------------------


@dataclass
class ChainCheck:
    agency_id: int | None
    slug: str
    events: int = 0
    seals: int = 0
    broken_at: int | None = None  # the first event whose hash link fails
    broken_reason: str = ""
    first_bad_position: int | None = None  # the first sealed position that no longer matches
    problems: list[str] = field(default_factory=list)
    unsealed: int = 0  # events after the newest seal
    store_problem: str = ""  # the seals could not be read

    @property
    def label(self) -> str:
        return _label(self.agency_id, self.slug)

    @property
    def ok(self) -> bool:
        return self.broken_at is None and not self.problems


@dataclass
class VerifyResult:
    chains: list[ChainCheck] = field(default_factory=list)
    store_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.store_problems and all(c.ok for c in self.chains)

    @property
    def events(self) -> int:
        return sum(c.events for c in self.chains)

    @property
    def seals(self) -> int:
        return sum(c.seals for c in self.chains)

    @property
    def problems(self) -> list[str]:
        lines = list(self.store_problems)
        for check in self.chains:
            if check.broken_at is not None:
                lines.append(
                    f"{check.label}: BROKEN at event {check.broken_at} ({check.broken_reason})"
                )
            lines += [f"{check.label}: {problem}" for problem in check.problems]
        return lines


def _read_seals(
    store: SealStore,
    chain: str,
    stored: list[StoredSeal],
    keys: dict[str, Ed25519PublicKey],
    check: ChainCheck,
) -> list[seals.Seal]:
    """The chain's seals whose signature holds, after checking the seals' own chain."""
    good: list[seals.Seal] = []
    previous_digest = seals.GENESIS_SEAL
    expected_seq = 1
    for item in stored:
        seq = int(item.name.rsplit("/", 1)[1].split(".")[0])
        if seq != expected_seq:
            missing = f"seal {expected_seq}" + (f" to {seq - 1}" if seq - 1 > expected_seq else "")
            check.problems.append(f"{missing} missing from the store: the seal chain is broken")
            previous_digest = ""  # the next link cannot be checked against a missing seal
        expected_seq = seq + 1
        if item.later_versions:
            check.problems.append(
                f"{item.name} was written over {item.later_versions} time(s) after sealing "
                "(the first, locked version is used)"
            )
        if item.deleted:
            check.problems.append(f"{item.name} was deleted (its locked version is used)")
        try:
            seal = seals.parse(store.get(item))
        except seals.SealFormatError as error:
            check.problems.append(f"{item.name} is unreadable ({error})")
            previous_digest = ""
            continue
        if seal.chain != chain or seal.seq != seq:
            check.problems.append(f"{item.name} holds seal {seal.seq} of {seal.chain}")
            previous_digest = ""
            continue
        problem = seals.signature_problem(seal, keys)
        if problem:
            check.problems.append(f"{item.name}: {problem}")
            previous_digest = ""
            continue
        if previous_digest and seal.prev_seal != previous_digest:
            check.problems.append(
                f"{item.name} does not follow seal {seq - 1}: the seal chain is broken"
            )
        previous_digest = seal.digest
        good.append(seal)
    return good


def _compare(
    check: ChainCheck, good: list[seals.Seal], at: dict[int, tuple[int, str]], chain_ok: bool
) -> None:
    """Check each sealed position against what the walk found there; name the first one
    that no longer matches."""
    for seal in sorted(good, key=lambda s: (s.events, s.seq)):
        found = at.get(seal.events)
        if found == (seal.head_id, seal.head_hash):
            continue
        if found is not None:
            why = (
                f"now event {found[0]}, sealed as event {seal.head_id}"
                if found[0] != seal.head_id
                else "the event's hash differs from the sealed hash (rewritten)"
            )
        elif chain_ok:
            why = f"missing: the chain now ends after {check.events} events"
        else:
            why = f"beyond the broken link at event {check.broken_at}"
        later = sum(1 for s in good if s.events > seal.events)
        check.first_bad_position = seal.events
        check.problems.append(
            f"first sealed position that no longer matches: position {seal.events} "
            f"(event {seal.head_id}, seal {seal.seq} of {seal.sealed_at}): {why}"
            + (f"; {later} later seal(s) fail with it" if later else "")
        )
        return
    if good:
        check.unsealed = max(0, check.events - max(s.events for s in good))


def check_chain(
    store: SealStore,
    listing: dict[str, list[StoredSeal]],
    keys: dict[str, Ed25519PublicKey],
    agency_id: int | None,
    slug: str,
    *,
    upto: int | None = None,
) -> ChainCheck:
    """Recompute one chain (in the current database) and check it against its seals.

    ``upto`` (a backup's event count for the chain) leaves out the seals of later positions:
    they were made after the backup, and the restored chain cannot reach them."""
    check = ChainCheck(agency_id, slug)
    stored = listing.get(seals.chain_name(agency_id), [])
    try:
        good = _read_seals(store, seals.chain_name(agency_id), stored, keys, check)
    except StorageError as error:
        check.store_problem = f"{check.label}: its seals could not be read: {error}"
        good = []
    if upto is not None:
        good = [seal for seal in good if seal.events <= upto]
    check.seals = len(stored) if upto is None else len(good)
    with transaction.atomic():
        _context(agency_id)
        report = verify_chain(agency_id, {s.events for s in good})
    check.events = report.events if report.ok else report.events - 1
    if not report.ok:
        check.broken_at, check.broken_reason = report.first_broken_id, report.reason
    if report.head_problem:
        check.problems.append(report.head_problem)
    # Seals of positions now in verified archives (audit/retention.py) were checked
    # against the chain before their month was archived; the archives link up.
    online = [seal for seal in good if seal.events > report.archived]
    _compare(check, online, dict(report.at), report.ok)
    return check


def seals_by_chain(store: SealStore) -> dict[str, list[StoredSeal]]:
    """Every stored seal, by chain name, oldest first (StorageError when unreachable)."""
    return _by_chain(store.listing())


def verify_chains(*, public_keys: list[str] | None = None) -> VerifyResult:
    """Recompute every chain and check it against every seal of it.

    ``public_keys`` (as text) replaces the configured verification keys: checking with a key
    other than the one that signed fails every seal."""
    keys = seals.verification_keys(public_keys)
    result = VerifyResult()
    store = seal_store()
    try:
        listing = _by_chain(store.listing())
    except StorageError as error:
        listing = {}
        result.store_problems.append(f"the seal store could not be read: {error}")
    agencies = _agencies()
    chains: dict[int | None, str] = {None: ""}
    for known_id, known_slug in agencies.items():
        chains[known_id] = known_slug
    for chain in listing:
        try:
            sealed_id = seals.agency_of_chain(chain)
        except seals.SealFormatError:
            result.store_problems.append(f"seals/{chain}/ is not a chain this portal seals")
            continue
        chains.setdefault(sealed_id, "")  # sealed, but the agency row is gone too
    expunged = _expunged_agencies()
    for agency_id, slug in chains.items():
        if agency_id is not None and agency_id not in agencies and agency_id in expunged:
            # Its events were deleted on purpose; its seals (hashes only, write-once) stay.
            sealed = len(listing.get(seals.chain_name(agency_id), []))
            label = f"{expunged[agency_id]}, expunged"
            result.chains.append(ChainCheck(agency_id, label, seals=sealed))
            continue
        check = check_chain(store, listing, keys, agency_id, slug)
        result.chains.append(check)
        if check.store_problem:
            result.store_problems.append(check.store_problem)
    return result


def nightly_verify() -> VerifyResult:
    """``verify_chains``, a platform audit event of its outcome, and on failure an alert to
    the operators (email and Sentry)."""
    result = verify_chains()
    with transaction.atomic():
        _context(None)
        audit.record(
            "audit.chains_verified" if result.ok else "audit.verify_failed",
            agency=None,
            details={
                "chains": len(result.chains),
                "events": result.events,
                "seals": result.seals,
                "problems": result.problems[:_PROBLEMS_IN_EVENT],
            },
        )
    if not result.ok:
        alert(
            "The audit log failed verification",
            [
                "audit_verify found audit chains that no longer match their seals or hashes.",
                "See docs/operations.md, 'A failed audit verification'.",
                "",
                *result.problems,
            ],
        )
    return result
