"""What the audit log's exports write: CSV rows safe to open in a spreadsheet, and JSON Lines
an auditor can check offline with ``python -m audit.verify_export`` (see that module for the
format, which this one must keep to).

CSV: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
spreadsheets as a formula; such a cell gets a leading apostrophe. Control characters
(newlines, ANSI escapes, DEL and the C1 range) are written as visible ``\\xNN`` escapes, so a
hostile user agent or name cannot forge rows or colour a terminal. JSON Lines escape every
non-ASCII and control character (``ensure_ascii``), which changes nothing once parsed.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from audit.models import AuditEvent
from audit.seals import format as seal_format
from audit.seals.store import seal_store
from audit.selectors import DescribedEvent
from vault.storage import StorageError

logger = logging.getLogger(__name__)

FORMAT = "portal-audit-log"
FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

CSV_HEADER = [
    "id",
    "time_utc",
    "action",
    "actor_id",
    "target",
    "ip",
    "request_id",
    "hash",
    "category",
    "description",
    "actor",
    "user_agent",
    "details",
]


def csv_cell(value: object) -> str | int:
    """One cell, neutralised: never a formula, never a raw control character."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    neutralise = text.startswith(_FORMULA_START)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)
    return "'" + text if neutralise else text


def csv_row(row: DescribedEvent) -> list[str | int]:
    event = row["event"]
    cells: list[object] = [
        event.pk,
        event.created_at.astimezone(datetime.UTC).isoformat(),
        event.action,
        event.actor_id or "",
        f"{event.target_type}:{event.target_id}" if event.target_type else "",
        event.ip or "",
        event.request_id,
        event.hash,
        row["category"],
        row["sentence"],
        row["actor"],
        event.user_agent,
        json.dumps(event.details, sort_keys=True, ensure_ascii=False),
    ]
    return [csv_cell(cell) for cell in cells]


# --- JSON Lines -------------------------------------------------------------------------------


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    """Exactly what audit.chain hashes for an event (its ``_canonical``), as a dict: the
    export carries it whole, so a verifier needs nothing but the line."""
    created_at = event.created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    return {
        "agency": event.agency_id,
        "actor": event.actor_id,
        "acting_as_grant": event.acting_as_grant_id,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "created_at": created_at,
        "details": event.details,
    }


def _line(record: Mapping[str, object]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def covering_seals(agency_id: int, head_id: int | None) -> list[dict[str, Any]]:
    """The seals of this agency's chain up to ``head_id`` (the newest event the export
    read), oldest first, each as the seal store holds it, ``{"seal": {...}, "signature":
    "..."}`` (audit/seals/format.py); ``python -m audit.verify_export --public-key`` checks
    them. A seal store that cannot be read gives none (logged): the export still verifies
    as a chain, only without the seals' proof, and says so by carrying no seal line."""
    if head_id is None:
        return []
    try:
        store = seal_store()
        listing = store.listing(f"seals/{seal_format.chain_name(agency_id)}/")
        seals = [seal_format.parse(store.get(stored)) for _, stored in sorted(listing.items())]
    except (StorageError, seal_format.SealFormatError):
        logger.exception("audit export: the seal store could not be read")
        return []
    return [
        {"seal": seal.body(), "signature": seal.signature}
        for seal in sorted(seals, key=lambda seal: seal.seq)
        if seal.head_id <= head_id
    ]


def jsonl_lines(
    *,
    agency_id: int,
    agency_slug: str,
    filters: Mapping[str, str],
    chain: Iterable[AuditEvent],
    exported_at: datetime.datetime,
) -> Iterator[str]:
    """The export: a header line, one line per matching event in chain order (oldest
    first), each with its place on the chain, its previous hash, its hash and the fields
    hashed; then the covering seals and an end line with the chain's head."""
    yield _line(
        {
            "type": "export",
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "agency": agency_id,
            "agency_slug": agency_slug,
            "exported_at": exported_at.astimezone(datetime.UTC).isoformat(),
            "filters": dict(filters),
            "complete": not filters,
            "hash_rule": "sha256(prev_hash + '\\n' + canonical JSON of 'hashed')",
        }
    )
    sequence = written = 0
    head: AuditEvent | None = None
    for event in chain:
        sequence += 1
        head = event
        if not getattr(event, "matches", True):
            continue
        written += 1
        yield _line(
            {
                "type": "event",
                "sequence": sequence,
                "id": event.pk,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "hashed": hashed_fields(event),
            }
        )
    head_id = head.pk if head is not None else None
    for seal in covering_seals(agency_id, head_id):
        yield _line({"type": "seal", **seal})
    yield _line(
        {
            "type": "end",
            "events": written,
            "chain_events": sequence,
            "head_id": head_id,
            "head_hash": head.hash if head is not None else GENESIS_HASH,
        }
    )
