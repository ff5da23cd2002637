"""Settings come from the environment and fail loudly; production refuses unsafe values."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]
MANAGED = {
    "PORTAL_ENV",
    "SECRET_KEY",
    "DEBUG",
    "DATABASE_URL",
    "DATABASE_APP_URL",
    "EMAIL_HOST",
    "PORTAL_BASE_DOMAIN",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DATABASE_SSLMODE",
    "DYNO",
    "SENTRY_DSN",
    "PORTAL_DB_ROLE",
    "PORTAL_MASTER_KEYS",
    "PASSWORD_BREACH_ON_ERROR",
    "INVITATION_TIMEOUT_MINUTES",
    "DOCUMENTS_S3_BUCKET",
    "AUDIT_SEAL_PRIVATE_KEY",
    "AUDIT_SEAL_PUBLIC_KEY",
    "AUDIT_SEAL_OLD_PUBLIC_KEYS",
    "AUDIT_SEAL_S3_BUCKET",
    "OPERATOR_EMAILS",
}
_SEAL_KEY = Ed25519PrivateKey.generate()
PRODUCTION = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://owner:pw@db.invalid:5432/portal",
    "DATABASE_APP_URL": "postgres://portal_app:pw@db.invalid:5432/portal",
    "EMAIL_HOST": "smtp.invalid",
    "PORTAL_BASE_DOMAIN": "records.example.gov",
    "DEFAULT_FROM_EMAIL": "Records <records@example.gov>",
    "PORTAL_MASTER_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "DOCUMENTS_S3_BUCKET": "records-documents",
    "AUDIT_SEAL_PRIVATE_KEY": base64.b64encode(
        _SEAL_KEY.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    ).decode(),
    "AUDIT_SEAL_S3_BUCKET": "records-audit-seals",
    "OPERATOR_EMAILS": "ops@example.gov",
}
_OTHER_PUBLIC_KEY = base64.b64encode(
    Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()


def run_django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in MANAGED}
    command = args or ("-c", "import django; django.setup()")
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, *command],
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_pass_check_deploy_at_warning_level():
    result = run_django(PRODUCTION, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": "django-insecure-" + "x" * 60}, "SECRET_KEY"),
        ({"DEBUG": "true"}, "DEBUG"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"SECURE_SSL_REDIRECT": "off"}, "SECURE_SSL_REDIRECT"),
        ({"SECURE_HSTS_SECONDS": "3600"}, "SECURE_HSTS_SECONDS"),
        ({"SECURE_HSTS_SECONDS": "a year"}, "SECURE_HSTS_SECONDS"),
        ({"DATABASE_SSLMODE": "disable"}, "DATABASE_SSLMODE"),
        ({"REDIS_URL": "redis://cache.invalid:6379"}, "REDIS_URL"),
        ({"DATABASE_URL": ""}, "DATABASE_URL"),
        ({"DATABASE_APP_URL": ""}, "DATABASE_APP_URL"),
        ({"DATABASE_APP_URL": "postgres://owner:pw@db.invalid/portal"}, "DATABASE_APP_URL"),
        ({"EMAIL_HOST": ""}, "EMAIL_HOST"),
        ({"PORTAL_BASE_DOMAIN": ""}, "PORTAL_BASE_DOMAIN"),
        ({"PORTAL_ENV": "prod"}, "PORTAL_ENV"),
        ({"PORTAL_BASE_DOMAIN": "https://records.example.gov"}, "PORTAL_BASE_DOMAIN"),
        ({"PORTAL_BASE_DOMAIN": "records.example.gov:443"}, "PORTAL_BASE_DOMAIN"),
        ({"DEFAULT_FROM_EMAIL": ""}, "DEFAULT_FROM_EMAIL"),
        ({"PORTAL_DB_ROLE": "owner"}, "PORTAL_DB_ROLE"),
        ({"PORTAL_MASTER_KEYS": ""}, "PORTAL_MASTER_KEYS"),
        ({"PORTAL_MASTER_KEYS": "not-a-key"}, "PORTAL_MASTER_KEYS"),
        ({"PASSWORD_BREACH_ON_ERROR": "sometimes"}, "PASSWORD_BREACH_ON_ERROR"),
        ({"INVITATION_TIMEOUT_MINUTES": "600"}, "INVITATION_TIMEOUT_MINUTES"),
        ({"DOCUMENTS_S3_BUCKET": ""}, "DOCUMENTS_S3_BUCKET"),
        ({"AUDIT_SEAL_PRIVATE_KEY": ""}, "AUDIT_SEAL_PRIVATE_KEY"),
        ({"AUDIT_SEAL_PRIVATE_KEY": "not-a-key"}, "AUDIT_SEAL_PRIVATE_KEY"),
        ({"AUDIT_SEAL_PUBLIC_KEY": _OTHER_PUBLIC_KEY}, "AUDIT_SEAL_PUBLIC_KEY"),
        ({"AUDIT_SEAL_OLD_PUBLIC_KEYS": "nope"}, "AUDIT_SEAL_OLD_PUBLIC_KEYS"),
        ({"AUDIT_SEAL_S3_BUCKET": ""}, "AUDIT_SEAL_S3_BUCKET"),
        ({"OPERATOR_EMAILS": ""}, "OPERATOR_EMAILS"),
    ],
)
def test_production_refuses_to_start_and_names_the_setting(change, named):
    result = run_django({**PRODUCTION, **change})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert named in last_line


def test_heroku_dyno_refuses_development_settings():
    result = run_django({"DYNO": "web.1"})
    assert result.returncode != 0
    assert "PORTAL_ENV" in result.stderr.strip().splitlines()[-1]


def test_env_readers_reject_values_they_do_not_understand(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "yes please")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "-5")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER must be at least 0"):
        env_int("SOME_NUMBER", 1, minimum=0)
    monkeypatch.setenv("SOME_FLAG", "off")
    assert env_bool("SOME_FLAG", True) is False


def test_production_session_and_csrf_cookies_are_host_only_secure_httponly_and_lax():
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_NAME, s.CSRF_COOKIE_SECURE)"
    )
    result = run_django(PRODUCTION, "-c", probe)
    assert result.returncode == 0, result.stderr
    # The last line: production's JSON log lines (on stdout too) come before it.
    assert result.stdout.strip().splitlines()[-1].split() == [
        "__Host-sessionid",
        "True",
        "True",
        "Lax",
        "__Host-csrftoken",
        "True",
    ]
