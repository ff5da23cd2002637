from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backups import BackupError, take_backup
from ops.manifest import KINDS


class Command(BaseCommand):
    help = (
        "Back up the database now: pg_dump (custom format) streamed through the platform "
        "backup key's encryption into the backup store, its manifest written last, then the "
        "rotation (7 daily, 4 weekly, 12 monthly)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=KINDS, default="daily")

    def handle(self, *args: Any, kind: str = "daily", **options: Any) -> None:
        try:
            manifest = take_backup(kind)
        except BackupError as error:
            raise CommandError(f"Backup failed: {error}") from None
        rows = sum(manifest.tables.values())
        self.stdout.write(
            f"Backup {manifest.id} ({manifest.kind}) complete: {manifest.size} bytes encrypted "
            f"({manifest.plaintext_size} of dump), {len(manifest.tables)} tables, {rows} rows, "
            f"{len(manifest.chains)} audit chains."
        )
