"""Re-seal every agency's document keys with the current master key (the first of
PORTAL_MASTER_KEYS) or the configured AWS KMS key; with --new-agency-key, also give each
agency a new key version and re-wrap every data key with it. Content is never re-encrypted.

Master-key rotation: put the new key first in PORTAL_MASTER_KEYS, run this, and drop the old
key once it reports no failure. Each agency is done in its own transaction: one that fails is
left as it was, named, and the command exits non-zero after trying the others.
"""

from django.core.management.base import BaseCommand, CommandError

import audit
from accounts.models import Agency
from accounts.tenancy import agency_context
from documents import audit_events, keys
from documents.models import AgencyKey
from vault.storage import StorageError


class Command(BaseCommand):
    help = (
        "Re-seal agencies' document keys with the current master key or KMS key; "
        "--new-agency-key also rotates each agency's key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agency", metavar="SLUG", help="only this agency")
        parser.add_argument(
            "--new-agency-key",
            action="store_true",
            help="also make a new agency key version and re-wrap every data key with it",
        )

    def handle(self, *args, agency=None, new_agency_key=False, **options):
        agencies = Agency.objects.order_by("pk")
        if agency:
            agencies = agencies.filter(slug=agency)
            if not agencies.exists():
                raise CommandError(f"No agency with the slug {agency!r}.")
        failed = []
        for each in agencies:
            try:
                with agency_context(each):
                    line = self._rotate(each, new_agency_key=new_agency_key)
            except (keys.KeyUnavailable, StorageError) as error:
                failed.append(each.slug)
                self.stderr.write(f"{each.slug}: FAILED, nothing changed: {error}")
                continue
            self.stdout.write(f"{each.slug}: {line}")
        if failed:
            raise CommandError(
                f"The keys of {', '.join(failed)} could not be opened (is the old master key "
                "still in PORTAL_MASTER_KEYS, the KMS key reachable, the key store intact?)."
            )

    def _rotate(self, agency: Agency, *, new_agency_key: bool) -> str:
        rows = AgencyKey.objects.filter(agency=agency)
        if not rows.exists():
            return "no keys yet (made on the first upload)"
        if not rows.filter(destroyed_at__isnull=True).exists():
            return "keys destroyed, nothing to do"
        resealed = keys.reseal(agency.pk)
        for row in rows.filter(destroyed_at__isnull=True):
            keys.agency_key(agency.pk, row.version)  # opens all the way (escrow included)
        line = f"re-sealed {resealed} key version(s)"
        if new_agency_key:
            version, rewrapped = keys.rotate(agency.pk)
            audit.record(
                audit_events.KEYS_ROTATED.code,
                agency=agency,
                details={"version": version, "rewrapped": rewrapped},
            )
            line += f", new agency key v{version}, re-wrapped {rewrapped} data key(s)"
        return line
