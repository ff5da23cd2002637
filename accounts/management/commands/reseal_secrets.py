"""Re-seal every stored secret with the current (first) master key, after a new key was put
first in PORTAL_MASTER_KEYS: SSO client secrets, LDAP bind passwords, two-factor (TOTP)
secrets, and every column the apps declare (vault.sealed_fields: webhook signing secrets,
mailbox passwords, Stripe keys, data export keys), and the data keys of the platform audit
log's archives. Once it and ``rotate_keys`` (the document
keys) report nothing left on old keys, the old key can go. (A two-factor secret waiting in a
session for its first code is not re-sealed: the person is shown a new one.)"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import (
    SEALED_TOTP_KEY,
    Agency,
    IdentityProvider,
    TOTPSecret,
    seal_plaintext_totp_key,
    totp_secret_aad,
)
from accounts.sso import config as sso_config
from accounts.tenancy import agency_context
from audit.archive import reseal_platform_archives
from vault.keyring import SealError, open_sealed, seal, sealed_with_current_key
from vault.sealed_fields import SealedField, sealed_fields


class Command(BaseCommand):
    help = (
        "Re-seal SSO client secrets, LDAP bind passwords, two-factor secrets and the apps' "
        "sealed columns (webhooks, mailboxes, Stripe) and the platform audit archives' keys "
        "with the current master key."
    )

    def handle(self, *args, **options):
        resealed = failed = 0
        for agency in Agency.objects.order_by("pk"):
            with agency_context(agency):
                for provider in IdentityProvider.objects.filter(
                    agency=agency, sealed_secret__isnull=False
                ).select_for_update():
                    # bytes(): a BinaryField may read as memoryview (the query excludes None).
                    sealed = bytes(provider.sealed_secret or b"")
                    if sealed_with_current_key(sealed):
                        continue
                    try:
                        secret = open_sealed(sealed, aad=provider.secret_aad)
                    except SealError as error:
                        failed += 1
                        self.stderr.write(f"agency {agency.pk} provider {provider.pk}: {error}")
                        continue
                    sso_config.set_secret(provider, secret.decode())
                    provider.save(update_fields=["sealed_secret"])
                    resealed += 1
                for declared in (f for f in sealed_fields() if f.per_agency):
                    done, broken = self._reseal_column(declared, agency)
                    resealed += done
                    failed += broken
        # Two-factor secrets belong to people, not agencies: no agency context.
        with transaction.atomic():
            # Devices made by code from before the sealing (during a deploy) are sealed first.
            plaintext = (
                TOTPDevice.objects.exclude(key=SEALED_TOTP_KEY).select_for_update().order_by("pk")
            )
            for device in plaintext:
                if seal_plaintext_totp_key(device):
                    resealed += 1
            rows = (
                TOTPSecret.objects.select_related("device")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            for row in rows:
                if sealed_with_current_key(bytes(row.sealed)):
                    continue
                aad = totp_secret_aad(row.device_id, row.device.user_id)
                try:
                    secret = open_sealed(bytes(row.sealed), aad=aad)
                except SealError as error:
                    failed += 1
                    self.stderr.write(f"two-factor device {row.device_id}: {error}")
                    continue
                row.sealed = seal(secret, aad=aad)
                row.save(update_fields=["sealed"])
                resealed += 1
            for declared in (f for f in sealed_fields() if not f.per_agency):
                done, broken = self._reseal_column(declared, None)
                resealed += done
                failed += broken
        archives, problems = reseal_platform_archives()
        resealed += archives
        failed += len(problems)
        for problem in problems:
            self.stderr.write(problem)
        self.stdout.write(f"Re-sealed {resealed} secret(s).")
        if failed:
            raise CommandError(f"{failed} secret(s) could not be opened with any configured key.")

    def _reseal_column(self, declared: SealedField, agency: Agency | None) -> tuple[int, int]:
        """(re-sealed, not opened) of one declared column's rows (of ``agency``, if given)."""
        resealed = failed = 0
        rows = declared.model._default_manager.select_for_update()
        if agency is not None:
            rows = rows.filter(agency=agency)
        for row in rows.order_by("pk"):
            sealed = bytes(getattr(row, declared.field) or b"")
            if not sealed or sealed_with_current_key(sealed):
                continue
            aad = declared.aad(row)
            try:
                secret = open_sealed(sealed, aad=aad)
            except SealError as error:
                failed += 1
                owner = f"agency {agency.pk} " if agency is not None else ""
                self.stderr.write(f"{owner}{declared.label} {row.pk}: {error}")
                continue
            setattr(row, declared.field, seal(secret, aad=aad))
            row.save(update_fields=[declared.field])
            resealed += 1
        return resealed, failed
