"""CI security gate: Django's deployment checks pass under production settings, at warning
level, with the database checks too (the release phase's own command), and no model change
lacks its migration.

Production's required variables get dummy-but-valid values (tests/ops/production.py); the
database is the test PostgreSQL, reached as the app role as a web dyno would.
"""

from __future__ import annotations

from tests.ops.production import production_env, run_manage


def test_check_deploy_under_production_settings_reports_nothing_even_a_warning():
    result = run_manage(
        production_env(), "check", "--deploy", "--database", "default", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Not even a message below the fail level (an INFO, a silenced one would say so).
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_every_model_change_has_its_migration():
    result = run_manage(production_env(), "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
