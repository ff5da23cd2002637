"""The audit seals' settings (issue 11), read from the environment and checked at start-up.

The Ed25519 key that signs the seals (audit/seals/) comes from the environment only, never the
database; development and tests keep one in .local/ (git-ignored). ``AUDIT_SEAL_PUBLIC_KEY``,
when set, must be the public half of the private key (a wrong key stops the process);
``AUDIT_SEAL_OLD_PUBLIC_KEYS`` lists the keys of before a rotation, so their seals still
verify. Seals go to ``AUDIT_SEAL_S3_BUCKET`` (Object Lock, COMPLIANCE for
``AUDIT_SEAL_RETENTION_DAYS``) in production, a folder otherwise. ``OPERATOR_EMAILS`` hear of a
failed nightly verification (``ADMINS`` when empty). Production refuses to start without the
key, the bucket or the operators, naming the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str
from vault import signing


class AuditSealSettings(NamedTuple):
    private_key: str
    public_key: str
    old_public_keys: list[str]
    s3_bucket: str
    retention_days: int
    operator_emails: list[str]


def _listed(name: str) -> list[str]:
    return [part.strip() for part in (env_str(name, "") or "").split(",") if part.strip()]


def _development_key(base_dir: Path) -> str:
    path = base_dir / ".local" / "audit_seal_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(signing.new_private_key_text())
        path.chmod(0o600)
    return path.read_text().strip()


def _check_keys(private: str, public: str, old: list[str]) -> None:
    try:
        own = signing.parse_private_key(private).public_key()
    except signing.KeyFormatError as error:
        raise ImproperlyConfigured(
            f"AUDIT_SEAL_PRIVATE_KEY is not an Ed25519 private key: {error} "
            "(make one with: python manage.py audit_seal_keygen)"
        ) from None
    named = [("AUDIT_SEAL_PUBLIC_KEY", public)] if public else []
    for setting, text in named + [("AUDIT_SEAL_OLD_PUBLIC_KEYS", t) for t in old]:
        try:
            signing.parse_public_key(text)
        except signing.KeyFormatError as error:
            raise ImproperlyConfigured(f"{setting} holds a malformed key: {error}.") from None
    published = signing.parse_public_key(public) if public else None
    if published and signing.public_bytes(published) != signing.public_bytes(own):
        raise ImproperlyConfigured(
            "AUDIT_SEAL_PRIVATE_KEY does not match AUDIT_SEAL_PUBLIC_KEY (the published key): "
            "the wrong seal key is configured."
        )


def audit_seal_settings(base_dir: Path, *, production: bool) -> AuditSealSettings:
    private = env_str("AUDIT_SEAL_PRIVATE_KEY")
    if private is None and not production:
        private = _development_key(base_dir)
    found = AuditSealSettings(
        private_key=private or "",
        public_key=env_str("AUDIT_SEAL_PUBLIC_KEY", "") or "",
        old_public_keys=_listed("AUDIT_SEAL_OLD_PUBLIC_KEYS"),
        s3_bucket=env_str("AUDIT_SEAL_S3_BUCKET", "") or "",
        retention_days=env_int("AUDIT_SEAL_RETENTION_DAYS", 400, minimum=366),
        operator_emails=_listed("OPERATOR_EMAILS"),
    )
    if found.private_key:
        _check_keys(found.private_key, found.public_key, found.old_public_keys)
    if production:
        problems = {
            "AUDIT_SEAL_PRIVATE_KEY": not found.private_key
            and "must be set in production (it signs the audit log's seals; see "
            "docs/operations.md)",
            "AUDIT_SEAL_S3_BUCKET": not found.s3_bucket
            and "must name the Object Lock bucket for the audit seals in production",
            "OPERATOR_EMAILS": not found.operator_emails
            and "must list who is told of a failed audit verification in production",
        }
        for name, message in problems.items():
            if message:
                raise ImproperlyConfigured(f"{name} {message}.")
    return found
