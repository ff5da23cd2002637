from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.seals.services import verify_chains


class Command(BaseCommand):
    help = (
        "Recompute every audit chain, name the first broken link, and check each chain "
        "against every one of its seals (signature, the seals' own chain, and the sealed "
        "event id, hash and count at each sealed position)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--public-key",
            action="append",
            dest="public_keys",
            metavar="KEY",
            help="check the seals with this public key (base64 or PEM) instead of the "
            "configured ones; repeat for keys of before a rotation",
        )

    def handle(self, *args: Any, public_keys: list[str] | None = None, **options: Any) -> None:
        result = verify_chains(public_keys=public_keys)
        for problem in result.store_problems:
            self.stdout.write(f"seal store: {problem}")
        for check in result.chains:
            if check.broken_at is not None:
                self.stdout.write(
                    f"{check.label}: BROKEN at event {check.broken_at} ({check.broken_reason})"
                )
            elif not check.problems:
                line = f"{check.label}: {check.events} events, chain intact"
                if check.seals:
                    line += f", matches its {check.seals} seal(s)"
                    if check.unsealed:
                        line += f" ({check.unsealed} newer events not sealed yet)"
                self.stdout.write(line)
            for problem in check.problems:
                self.stdout.write(f"{check.label}: {problem}")
        failing = [c for c in result.chains if not c.ok]
        if not result.ok:
            raise CommandError(
                f"{len(failing)} audit chain(s) broken or not matching their seals"
                + ("; the seal store has problems." if result.store_problems else ".")
            )
        self.stdout.write(
            f"All {len(result.chains)} chains intact: {result.events} events, {result.seals} seals."
        )
