"""The database backups' settings (issue 13), read from the environment and checked at start-up.

``BACKUP_KEY`` is the platform's backup key (32 bytes, URL-safe base64 or 64 hex digits): it
encrypts every dump and authenticates every manifest. It is no agency's key, and it lives in
the environment only, never in the database; development and tests keep one in .local/
(git-ignored), like the seal key. ``BACKUP_OLD_KEYS`` lists keys of before a rotation, so older
backups still open. Backups go to ``BACKUP_S3_BUCKET`` (reached with the ``DOCUMENTS_S3_*``
endpoint and credentials), else to a folder (``BACKUP_LOCAL_ROOT``, default .local/backups).

``BACKUP_DATABASE_URL`` is the connection pg_dump uses: a role that reads every row
(superuser or BYPASSRLS, since every tenant table FORCEs row-level security), and the database
it names is the one backed up. Default: the embedded server's superuser on the portal's
database, or ``DATABASE_URL``. ``BACKUP_PG_BIN`` is a folder holding pg_dump and pg_restore
(default: pgserver's own for the embedded server, the system's matching the server otherwise).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, NamedTuple

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_list, env_str


class BackupSettings(NamedTuple):
    key: bytes
    old_keys: list[bytes]
    s3_bucket: str
    local_root: Path
    database: dict[str, Any]
    pg_bin: str
    keep: dict[str, int]


def parse_backup_key(text: str, name: str = "BACKUP_KEY") -> bytes:
    item = text.strip()
    try:
        if len(item) == 64 and all(c in "0123456789abcdefABCDEF" for c in item):
            key = bytes.fromhex(item)
        else:
            key = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"{name} must be 32 bytes, in URL-safe base64 or 64 hex digits (make one with: "
            'python -c "import os,base64;print(base64.urlsafe_b64encode(os.urandom(32)).decode())")'
        )
    return key


def _development_key(base_dir: Path) -> str:
    path = base_dir / ".local" / "backup_key"
    if not path.exists():
        import os

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def backup_settings(
    base_dir: Path, *, production: bool, owner_url: str, embedded_superuser_url: str | None
) -> BackupSettings:
    raw_key = env_str("BACKUP_KEY")
    if raw_key is None and not production:
        raw_key = _development_key(base_dir)
    key = parse_backup_key(raw_key) if raw_key else b""
    old = [parse_backup_key(k, "BACKUP_OLD_KEYS") for k in env_list("BACKUP_OLD_KEYS")]
    url = env_str("BACKUP_DATABASE_URL") or embedded_superuser_url or owner_url
    return BackupSettings(
        key=key,
        old_keys=old,
        s3_bucket=env_str("BACKUP_S3_BUCKET", "") or "",
        local_root=Path(env_str("BACKUP_LOCAL_ROOT", "") or base_dir / ".local" / "backups"),
        database=dict(dj_database_url.parse(url)),
        pg_bin=env_str("BACKUP_PG_BIN", "") or "",
        keep={
            "daily": env_int("BACKUP_KEEP_DAILY", 7, minimum=1),
            "weekly": env_int("BACKUP_KEEP_WEEKLY", 4, minimum=1),
            "monthly": env_int("BACKUP_KEEP_MONTHLY", 12, minimum=1),
        },
    )
