"""The promises of docs/security.md that a production process's settings could break: such
a process stops at start-up, naming the setting (config/settings.py calls this last)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


def refuse_unsafe_production(s: dict[str, Any]) -> None:
    """Stop a production process whose settings would make a promise of docs/security.md false."""
    if not s["IS_PRODUCTION"]:
        return
    secret_key = s["SECRET_KEY"]
    weak_key = (
        len(secret_key) < 50
        or len(set(secret_key)) < 5
        or secret_key.startswith("django-insecure-")
    )
    redis_url = s["REDIS_URL"]
    problems = {
        "SECRET_KEY": weak_key
        and "must be set to a random value of at least 50 characters (not django-insecure-...)",
        "DEBUG": s["DEBUG"] and "must be off in production",
        "SECURE_SSL_REDIRECT": not s["SECURE_SSL_REDIRECT"] and "must be on in production",
        "SECURE_HSTS_SECONDS": s["SECURE_HSTS_SECONDS"] < 31536000
        and "must be at least 31536000 (one year) in production",
        "DATABASE_SSLMODE": s["DATABASE_SSLMODE"] not in ("require", "verify-ca", "verify-full")
        and "must be require, verify-ca or verify-full in production",
        "REDIS_URL": redis_url is not None
        and not redis_url.startswith("rediss://")
        and "must use TLS (rediss://) in production",
        "PORTAL_BASE_DOMAIN": s["PORTAL_BASE_DOMAIN"] in ("", "localhost")
        and "must be the portal's public domain in production",
        "DEFAULT_FROM_EMAIL": s["DEFAULT_FROM_EMAIL"].rstrip(">").endswith("@localhost")
        and "must be a real sender address in production",
        "PORTAL_MASTER_KEYS": not s["PORTAL_MASTER_KEYS"]
        and "must be set in production (it seals SSO secrets; see docs/operations.md)",
        "DOCUMENTS_S3_BUCKET": not s["DOCUMENTS_S3_BUCKET"]
        and "must name the private bucket for documents in production (dynos have no disk)",
    }
    for name, message in problems.items():
        if message:
            raise ImproperlyConfigured(f"{name} {message}.")
