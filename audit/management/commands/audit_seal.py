from typing import Any

from django.core.management.base import BaseCommand, CommandError

from audit.seals import format as seal_format
from audit.seals.services import seal_chains
from vault import signing


class Command(BaseCommand):
    help = (
        "Seal the head of every audit chain that moved since its newest seal (the hourly "
        "task does the same), writing the seals to the seal store outside the database."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = seal_chains()
        for name in run.sealed:
            self.stdout.write(f"sealed: {name}")
        self.stdout.write(f"{len(run.sealed)} chain(s) sealed, {run.unchanged} unchanged.")
        key = seal_format.public_key()
        self.stdout.write(
            f"Verify with public key {signing.public_key_text(key)} (key id {signing.key_id(key)})."
        )
        for problem in run.problems:
            self.stdout.write(f"NOT SEALED: {problem}")
        for failure in run.failed:
            self.stdout.write(f"NOT WRITTEN: {failure}")
        if not run.ok:
            raise CommandError(
                f"{len(run.failed)} seal(s) not written, {len(run.problems)} chain(s) not "
                "sealed: see above, and run audit_verify."
            )
