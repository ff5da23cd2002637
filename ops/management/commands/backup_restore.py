from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backups import BackupError
from ops.restore import restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup into the database at --into (a DATABASE_URL). The target must be "
        "empty unless --force (which replaces the objects the backup holds). One transaction: "
        "a failure leaves the target as it was."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_id")
        parser.add_argument("--into", required=True, metavar="DATABASE_URL")
        parser.add_argument("--force", action="store_true")

    def handle(
        self, *args: Any, backup_id: str, into: str, force: bool = False, **options: Any
    ) -> None:
        try:
            manifest = restore_backup(backup_id, into, force=force)
        except BackupError as error:
            raise CommandError(f"Restore failed: {error}") from None
        self.stdout.write(
            f"Restored backup {manifest.id} ({manifest.kind}, {manifest.finished}). Run "
            "'manage.py migrate' against it to grant the app role its privileges."
        )
