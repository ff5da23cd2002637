from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, list_backups


class Command(BaseCommand):
    help = "List the complete backups (those with a manifest), newest first."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            listed = list_backups()
        except BackupError as error:
            raise CommandError(str(error)) from None
        if not listed:
            self.stdout.write("No complete backup.")
        for item in listed:
            manifest = item.manifest
            if manifest is None:
                self.stdout.write(f"{item.name}: {item.problem}")
                continue
            self.stdout.write(
                f"{manifest.id}  {manifest.kind:<8} finished {manifest.finished}  "
                f"{manifest.size / 1e6:,.1f} MB  {len(manifest.tables)} tables  "
                f"{sum(manifest.tables.values())} rows  {len(manifest.chains)} audit chains"
            )
