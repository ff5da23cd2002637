from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.expunge import ExpungeError, expunge_agency


class Command(BaseCommand):
    help = (
        "Expunge an agency: every row of it, its audit events, its documents' ciphertext and "
        "its keys (crypto-shredding: its documents in older backups can no longer be "
        "decrypted). Irreversible. Runs as the tables' owner (manage.py sets "
        "PORTAL_DB_ROLE=owner). Type the slug again with --confirm, or at the prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--confirm", metavar="SLUG", help="the slug again, to confirm")

    def handle(self, *args: Any, slug: str, confirm: str | None = None, **options: Any) -> None:
        if confirm is None:
            if not options.get("interactive", True):
                raise CommandError("Confirm with --confirm <slug>. Nothing was changed.")
            confirm = input(
                f"This deletes every row, document and key of agency {slug!r}, for good.\n"
                "Type its slug to confirm: "
            ).strip()
        if confirm != slug:
            raise CommandError(
                f"The confirmation {confirm!r} is not the slug {slug!r}. Nothing was changed."
            )
        try:
            result = expunge_agency(slug)
        except ExpungeError as error:
            raise CommandError(str(error)) from None
        if result.finished_earlier_run:
            self.stdout.write(
                f"Agency {slug!r} (id {result.agency_id}) was already expunged; the blobs an "
                f"interrupted run left were deleted: {result.blobs or 'none'}."
            )
            return
        self.stdout.write(f"Expunged agency {slug!r} (id {result.agency_id}).")
        for table, count in sorted(result.rows.items()):
            self.stdout.write(f"  {table}: {count} rows")
        for store, count in sorted(result.blobs.items()):
            self.stdout.write(f"  {store} store: {count} blobs")
