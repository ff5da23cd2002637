"""The environment of a production process, pointed at services on this machine.

Every variable production demands (config/settings.py, config/audit_settings.py) gets a
dummy-but-valid value: fresh random keys, a real domain shape, the test PostgreSQL's owner
and app roles (as the test settings connect). The caller adds what it runs for real (Redis,
S3, SMTP).
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BASE_DOMAIN = "records.example.gov"

# Variables of the developer's or CI's environment that would change what production does.
_DROPPED_PREFIXES = ("PORTAL_", "DATABASE_", "REDIS_", "DOCUMENTS_", "KEYSTORE_", "AUDIT_SEAL_")
_DROPPED = {
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "SENTRY_DSN",
    "DYNO",
    "OPERATOR_EMAILS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "CLAMD_ADDRESS",
}


def database_url(database: dict, name: str | None = None) -> str:
    """A postgres:// URL for one of the settings' database dicts (a Unix-socket host travels
    URL-encoded in the host part, as config/embedded_postgres.py writes it)."""
    user = quote(database["USER"], safe="")
    password = database.get("PASSWORD")
    credentials = f"{user}:{quote(password, safe='')}" if password else user
    host = quote(database.get("HOST") or "", safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{name or database['NAME']}"


def production_env(database_name: str | None = None, **extra: str) -> dict[str, str]:
    """The process environment of a production process (PORTAL_ENV=production) against the
    test PostgreSQL (database ``database_name``, else the one the settings name)."""
    seal_key = Ed25519PrivateKey.generate()
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROPPED and not key.startswith(_DROPPED_PREFIXES)
    }
    return {
        **base,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": database_url(settings.PORTAL_OWNER_DATABASE, database_name),
        "DATABASE_APP_URL": database_url(settings.PORTAL_APP_DATABASE, database_name),
        "PORTAL_BASE_DOMAIN": BASE_DOMAIN,
        "DEFAULT_FROM_EMAIL": f"Records <records@{BASE_DOMAIN}>",
        "EMAIL_HOST": "smtp.invalid",
        "PORTAL_MASTER_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DOCUMENTS_S3_BUCKET": "records-documents",
        "KEYSTORE_S3_BUCKET": "records-keystore",
        "DOCUMENTS_S3_REGION": "us-west-2",
        "AUDIT_SEAL_PRIVATE_KEY": base64.b64encode(
            seal_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        ).decode(),
        "AUDIT_SEAL_PUBLIC_KEY": base64.b64encode(
            seal_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        ).decode(),
        "AUDIT_SEAL_S3_BUCKET": "records-audit-seals",
        "OPERATOR_EMAILS": f"ops@{BASE_DOMAIN}",
        "REDIS_URL": "rediss://:not-used@127.0.0.1:1/0",
        "REDIS_SSL_CERT_REQS": "none",
        **extra,
    }


def run_manage(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``python manage.py <args>`` in a process of its own with ``env``."""
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
