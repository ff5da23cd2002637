"""app.json (Heroku's deploy manifest) brings what the processes need: the apt buildpack with
the Aptfile before the Python one, a Postgres plan with continuous protection (rollback), a
dyno for every Procfile process, every variable production demands, and a CI test script
that runs the real suite."""

from __future__ import annotations

import json
import re

import pytest

from tests.ops.production import ROOT, production_env

APP = json.loads((ROOT / "app.json").read_text())
APTFILE = [
    line.strip()
    for line in (ROOT / "Aptfile").read_text().splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
# Heroku Postgres tiers with rollback (point-in-time recovery): Standard (4 days), Premium,
# Private and Shield (1 week). Essential (and the retired mini/basic/hobby) has none.
CONTINUOUS_PROTECTION = ("standard-", "premium-", "private-", "shield-")


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_apt_buildpack_runs_before_python_in_every_environment():
    urls = [pack["url"] for pack in APP["buildpacks"]]
    assert urls == ["heroku-community/apt", "heroku/python"]
    assert [pack["url"] for pack in APP["environments"]["test"]["buildpacks"]] == urls


@pytest.mark.parametrize(
    ("needed_for", "packages"),
    [
        ("OCR of redacted pages", {"tesseract-ocr", "tesseract-ocr-eng"}),
        ("office files to PDF", {"libreoffice-core-nogui", "libreoffice-writer-nogui"}),
        ("spreadsheets and slides to PDF", {"libreoffice-calc-nogui", "libreoffice-impress-nogui"}),
        ("python-ldap's build", {"libldap2-dev", "libsasl2-dev"}),
        ("backups: pg_dump and pg_restore of the database's version", {"postgresql-client-16"}),
    ],
)
def test_the_aptfile_installs_what_the_worker_and_the_build_need(needed_for, packages):
    assert packages <= set(APTFILE), needed_for
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", name) for name in APTFILE)


def test_the_backups_use_the_aptfile_s_postgresql_client_of_the_database_s_version():
    """The worker's pg_dump is the Aptfile's, where the apt buildpack unpacks it (its
    /app/.apt/usr/bin/pg_dump is Debian's wrapper script, which looks outside the slug)."""
    (client,) = [name for name in APTFILE if name.startswith("postgresql-client-")]
    major = client.rsplit("-", 1)[1]
    assert APP["env"]["BACKUP_PG_BIN"]["value"] == f"/app/.apt/usr/lib/postgresql/{major}/bin"
    (database,) = [a for a in APP["addons"] if a["plan"].startswith("heroku-postgresql:")]
    assert database["options"]["version"] == major  # the database is made at that version


def test_tesseract_is_told_where_its_language_data_is_in_the_slug():
    prefix = APP["env"]["TESSDATA_PREFIX"]["value"]
    assert prefix.startswith("/app/.apt/usr/share/tesseract-ocr/")
    assert prefix.endswith("/tessdata")


def test_the_postgres_plan_has_continuous_protection():
    plans = [addon["plan"] for addon in APP["addons"]]
    database = [plan for plan in plans if plan.startswith("heroku-postgresql:")]
    assert len(database) == 1
    assert database[0].split(":", 1)[1].startswith(CONTINUOUS_PROTECTION), database[0]
    assert any(plan.startswith("heroku-redis:") for plan in plans)


def test_every_procfile_process_has_a_dyno_and_release_runs_migrate_then_check_deploy():
    processes = _procfile()
    assert set(APP["formation"]) == set(processes) - {"release"}
    assert all(APP["formation"][name]["quantity"] >= 1 for name in APP["formation"])
    release = processes["release"]
    assert release.index("migrate") < release.index("check --deploy")
    assert "--fail-level WARNING" in release


def test_every_variable_production_demands_is_declared():
    """Each variable tests/ops/production.py must set for a production process to start is
    in app.json, generated, given a value, required, or provided by an add-on."""
    from_addons = {"DATABASE_URL", "REDIS_URL"}
    needed = {
        name
        for name in production_env()
        if name.isupper() and name.startswith(("PORTAL_", "SECRET", "DATABASE", "AUDIT", "EMAIL"))
    } | {"DEFAULT_FROM_EMAIL", "OPERATOR_EMAILS", "DOCUMENTS_S3_BUCKET", "REDIS_SSL_CERT_REQS"}
    missing = needed - from_addons - set(APP["env"])
    assert missing == set()
    for name in needed - from_addons:
        spec = APP["env"][name]
        assert spec.get("required") or "value" in spec or spec.get("generator"), name


def test_the_ci_test_script_runs_the_real_suite():
    scripts = APP["environments"]["test"]["scripts"]
    test = scripts["test"]
    assert "echo" not in test
    assert "python -m pytest" in test
    assert "tests/security" in test  # the security gate
    assert "ruff check" in test and "scripts/typecheck" in test
    # The dev dependencies (pytest, bandit, semgrep...) from the hashed lock file.
    assert "--require-hashes -r requirements-dev.txt" in scripts["test-setup"]
    # Tests run on the embedded PostgreSQL with development settings, never an add-on's
    # database with production ones.
    assert APP["environments"]["test"]["env"]["PORTAL_ENV"] == "development"
    assert "-u DATABASE_URL" in test and "-u DYNO" in test
