import re
from datetime import date
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.archive import ArchiveInvalid
from audit.archive_keys import ArchiveKeyUnavailable
from audit.restore import drop_restored, restore_archive


class Command(BaseCommand):
    help = (
        "Restore one agency's archived audit log of one month, read-only, into the "
        "audit_restore schema (verified against its manifest first)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--agency", required=True, help="the agency's id or slug, or 'platform'"
        )
        parser.add_argument("--month", required=True, help="YYYY-MM (UTC month)")
        parser.add_argument(
            "--drop", action="store_true", help="remove the restored table (investigation over)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        agency_id = self._agency_id(options["agency"])
        match = re.fullmatch(r"(\d{4})-(\d{2})", options["month"])
        if not match or not 1 <= int(match[2]) <= 12:
            raise CommandError("--month must look like 2025-11.")
        month = date(int(match[1]), int(match[2]), 1)
        if options["drop"]:
            self.stdout.write(f"{drop_restored(agency_id, month)} removed")
            return
        try:
            table, count = restore_archive(agency_id, month)
        except ArchiveKeyUnavailable as error:
            raise CommandError(
                f"The archive cannot be opened: the agency's key is gone ({error})."
            ) from None
        except ArchiveInvalid as error:
            raise CommandError(f"The archive was not restored: {error}.") from None
        self.stdout.write(
            f"{count} events of {month:%Y-%m} restored into {table}, read-only "
            "(query it in the agency's context; remove it with --drop)"
        )

    @staticmethod
    def _agency_id(value: str) -> int | None:
        if value == "platform":
            return None
        tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
        field = "pk" if value.isdigit() else "slug"
        agency_id = tenant_model.objects.filter(**{field: value}).values_list("pk", flat=True)
        if not agency_id:
            raise CommandError(f"No agency {value!r}.")
        return int(agency_id[0])
