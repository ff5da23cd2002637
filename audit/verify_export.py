"""Check an audit-log export offline, without the portal:

    python -m audit.verify_export audit-cityname.jsonl [--public-key seal-key.pem]

This file stands alone: it uses the Python standard library and, for seals only, the
``cryptography`` package; it never imports Django or the portal, so an auditor can copy it
next to the export and run it anywhere with Python 3.11 or later. Exit status 0 means every
check passed; 1 names the first line that failed; 2 is a file that cannot be read.

The export (JSON Lines, one JSON object per line, written by the portal's "Download for
verification"):

- line 1, ``{"type": "export", "format": "portal-audit-log", "version": 1, "agency": ...,
  "filters": {...}, "complete": true|false, ...}``;
- one line per event, oldest first: ``{"type": "event", "sequence": N, "id": ...,
  "prev_hash": "<64 hex>", "hash": "<64 hex>", "hashed": {...}}``, where ``sequence`` is the
  event's place on the agency's chain (1 for the first event) and ``hashed`` holds exactly
  the fields the portal hashed;
- zero or more seal lines, ``{"type": "seal", "agency", "head_id", "head_hash", "count",
  "sealed_at", "prev_seal_hash", "signature"}``;
- last, ``{"type": "end", "events": ..., "chain_events": ..., "head_id": ..., "head_hash": ...}``.

The hash of an event (audit/chain.py in the portal):

    hash = SHA-256( prev_hash (ASCII hex) + "\\n" + canonical(hashed) ), as lower-case hex
    canonical(x) = json.dumps(x, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")

What is checked: every event's hash against its fields and previous hash; where two events
are neighbours on the chain (sequence N and N+1, as in a complete export), that the second's
``prev_hash`` is the first's ``hash``; that the first event of the chain (sequence 1) starts
from 64 zeros; that the end line agrees with the events. A filtered export (``complete``
false) leaves gaps: each event is still checked, links only across neighbours.

Seals (``--public-key``). A seal line carries one seal of the agency's chain, in either of
two shapes; both are Ed25519 signatures, in base64 (standard or URL-safe, padded or not):

1. The seal module's document (branch ``seals``, ``audit/seals/format.py``, format
   ``portal-audit-seal/1``): ``{"type": "seal", "seal": {"format", "chain", "agency_id",
   "agency_slug", "seq", "head_id", "head_hash", "events", "sealed_at", "prev_seal",
   "key_id"}, "signature": "..."}``. The signature covers ``canonical(seal)``; ``prev_seal``
   is the lower-case hex SHA-256 of the previous seal's ``canonical(seal)`` (64 zeros for the
   first); ``events`` is the number of events up to ``head_id``.
2. ASSUMED flat form (written before the seal module existed; kept so either side can
   change): ``{"type": "seal", "agency", "head_id", "head_hash", "count", "sealed_at",
   "prev_seal_hash", "signature"}``. The signature covers ``canonical`` of the six fields
   without ``signature``; ``prev_seal_hash`` is the SHA-256 of the previous seal's
   ``canonical`` of all seven fields.

Seals must follow one another (each names the one before it), belong to the export's
agency, and a seal whose ``head_id`` is in the export must name that event's hash and
position. The public key is a PEM file (SubjectPublicKeyInfo) or the raw 32-byte key in
hex or base64. See ``seal_view`` and ``check_seal``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
SEAL_SIGNED_FIELDS = ("agency", "head_id", "head_hash", "count", "sealed_at", "prev_seal_hash")


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def event_hash(prev_hash: str, hashed: object) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(hashed)).hexdigest()


def seal_signed_bytes(seal: dict[str, Any]) -> bytes:
    """What a seal's signature covers (the assumed encoding: see the module docstring)."""
    return canonical({name: seal.get(name) for name in SEAL_SIGNED_FIELDS})


def seal_chain_hash(seal: dict[str, Any]) -> str:
    """The hash the next seal names as its ``prev_seal_hash``."""
    fields = {name: seal.get(name) for name in (*SEAL_SIGNED_FIELDS, "signature")}
    return hashlib.sha256(canonical(fields)).hexdigest()


def load_public_key(data: bytes) -> Any:
    """An Ed25519 public key from PEM, or raw 32 bytes written in base64 or hex."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(text)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(text.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        try:
            raw = _b64(text.decode("ascii"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raw = None
    if raw is None or len(raw) != 32:
        raise ValueError("the key is neither PEM nor 32 bytes in hex or base64")
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SealView:
    """A seal line, whichever of the two shapes it has (see the module docstring)."""

    signed: bytes  # what the signature covers
    signature: str
    agency: object
    head_id: object
    head_hash: object
    count: object
    prev: object  # the previous seal's digest, as this seal names it
    digest: str  # what the next seal names as its previous


def seal_view(record: dict[str, Any]) -> SealView:
    body = record.get("seal")
    if isinstance(body, dict):  # {"type": "seal", "seal": {...}, "signature": "..."}
        return SealView(
            signed=canonical(body),
            signature=str(record.get("signature", "")),
            agency=body.get("agency_id"),
            head_id=body.get("head_id"),
            head_hash=body.get("head_hash"),
            count=body.get("events"),
            prev=body.get("prev_seal"),
            digest=hashlib.sha256(canonical(body)).hexdigest(),
        )
    return SealView(
        signed=seal_signed_bytes(record),
        signature=str(record.get("signature", "")),
        agency=record.get("agency"),
        head_id=record.get("head_id"),
        head_hash=record.get("head_hash"),
        count=record.get("count"),
        prev=record.get("prev_seal_hash"),
        digest=seal_chain_hash(record),
    )


def _b64(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def check_seal(seal: dict[str, Any], public_key: Any) -> str | None:
    """Check one seal's Ed25519 signature over its fields {agency, head_id, head_hash, count,
    sealed_at, prev_seal_hash} (``signature`` in base64). None when it holds, else why not."""
    from cryptography.exceptions import InvalidSignature

    view = seal_view(seal)
    try:
        signature = _b64(view.signature)
    except (binascii.Error, ValueError):
        return "the seal's signature is not base64"
    try:
        public_key.verify(signature, view.signed)
    except InvalidSignature:
        return "the seal's signature does not match its fields and the public key"
    return None


@dataclass
class Result:
    events: int = 0
    seals: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            yield number, None, f"not JSON ({error})"
            continue
        if not isinstance(record, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, record, ""


def verify(lines: Iterable[str], public_key: Any = None) -> Result:
    """Check an export given as its lines; stops at the first problem."""
    result = Result()
    header: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    by_id: dict[int, tuple[int, str]] = {}
    previous_seal: dict[str, Any] | None = None
    end: dict[str, Any] | None = None

    def fail(number: int, message: str) -> Result:
        result.problems.append(f"line {number}: {message}")
        return result

    for number, record, error in _records(lines):
        if record is None:
            return fail(number, error)
        kind = record.get("type")
        if header is None:
            if kind != "export" or record.get("format") != "portal-audit-log":
                return fail(number, "not a portal audit-log export (no export header)")
            header = record
            continue
        if end is not None:
            return fail(number, "a line after the end line")
        if kind == "event":
            problem = _check_event(record, previous, complete=bool(header.get("complete")))
            if problem:
                event_id = record.get("id")
                return fail(
                    number, f"event {event_id} (sequence {record.get('sequence')}): {problem}"
                )
            result.events += 1
            by_id[int(record["id"])] = (int(record["sequence"]), str(record["hash"]))
            previous = record
        elif kind == "seal":
            result.seals += 1
            problem = _check_seal_line(record, previous_seal, by_id, header, public_key)
            if problem:
                return fail(number, f"seal of head {record.get('head_id')}: {problem}")
            previous_seal = record
        elif kind == "end":
            end = record
            if end.get("events") != result.events:
                return fail(
                    number,
                    f"the end line counts {end.get('events')} events, "
                    f"the file holds {result.events}: lines are missing or added",
                )
            head_id = end.get("head_id")
            if header.get("complete") and head_id is not None:
                if by_id.get(int(head_id), (None, None))[1] != end.get("head_hash"):
                    return fail(number, "the chain's head is not the last event of the file")
                if previous is not None and previous.get("sequence") != end.get("chain_events"):
                    return fail(number, "the last event's position does not match the count")
        else:
            return fail(number, f"unknown line type {kind!r}")
    if header is None:
        result.problems.append("the file is empty")
    elif end is None:
        result.problems.append("the file ends without its end line: it was cut short")
    if result.seals and public_key is None:
        result.notes.append(f"{result.seals} seal(s) not checked: give --public-key")
    if header is not None and not header.get("complete"):
        result.notes.append(
            "a filtered export: each event is checked, links only between neighbouring events"
        )
    return result


def _check_event(record: dict[str, Any], previous: dict[str, Any] | None, *, complete: bool) -> str:
    try:
        sequence = int(record["sequence"])
        prev_hash = str(record["prev_hash"])
        stated = str(record["hash"])
        hashed = record["hashed"]
        int(record["id"])
    except (KeyError, TypeError, ValueError):
        return "a field is missing or malformed"
    if len(prev_hash) != 64 or not prev_hash.isascii():
        return "the previous hash is malformed"
    if complete and sequence != (int(previous["sequence"]) + 1 if previous else 1):
        return "the export is complete, yet the event before this one on the chain is missing"
    if sequence == 1 and prev_hash != GENESIS_HASH:
        return "the chain's first event does not start from the genesis hash"
    if previous is not None:
        if sequence <= int(previous["sequence"]):
            return "out of order (its position is not after the line before)"
        if sequence == int(previous["sequence"]) + 1 and prev_hash != previous["hash"]:
            return "its previous hash is not the hash of the event before it"
    if event_hash(prev_hash, hashed) != stated:
        return "its contents do not match its hash (changed after it was recorded)"
    return ""


def _check_seal_line(
    seal: dict[str, Any],
    previous_seal: dict[str, Any] | None,
    by_id: dict[int, tuple[int, str]],
    header: dict[str, Any],
    public_key: Any,
) -> str:
    if public_key is not None:
        problem = check_seal(seal, public_key)
        if problem:
            return problem
    view = seal_view(seal)
    if view.agency != header.get("agency"):
        return "it seals another agency's chain"
    if previous_seal is not None and view.prev != seal_view(previous_seal).digest:
        return "it does not follow the seal before it (a seal is missing)"
    try:
        head_id = int(str(view.head_id))
    except (TypeError, ValueError):
        return "its head id is malformed"
    if head_id in by_id:
        sequence, head_hash = by_id[head_id]
        if view.head_hash != head_hash:
            return f"it seals event {head_id} with another hash: the log was rewritten"
        if view.count != sequence:
            return f"it counts {view.count} events up to {head_id}, the export {sequence}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify_export",
        description="Check the hash chain (and, with a key, the seals) of an audit-log export.",
    )
    parser.add_argument("file", type=Path, help="the .jsonl export")
    parser.add_argument("--public-key", type=Path, help="the portal's seal public key")
    args = parser.parse_args(argv)
    public_key = None
    try:
        if args.public_key is not None:
            public_key = load_public_key(args.public_key.read_bytes())
        with args.file.open(encoding="utf-8") as handle:
            result = verify(handle, public_key)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        print(f"cannot read: {error}", file=sys.stderr)
        return 2
    for note in result.notes:
        print(f"note: {note}")
    if not result.ok:
        for problem in result.problems:
            print(f"FAILED at {problem}")
        return 1
    print(f"OK: {result.events} events, hashes and links intact; {result.seals} seal(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
