from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify_all


class Command(BaseCommand):
    help = "Recompute every agency's audit chain and name the first broken link."

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
        agency_ids = list(tenant_model.objects.order_by("pk").values_list("pk", flat=True))
        broken = []
        for report in verify_all(agency_ids):
            chain = "platform" if report.agency_id is None else f"agency {report.agency_id}"
            if report.ok:
                self.stdout.write(f"{chain}: {report.events} events, chain intact")
            else:
                broken.append(report)
                self.stdout.write(
                    f"{chain}: BROKEN at event {report.first_broken_id} ({report.reason})"
                )
        if broken:
            raise CommandError(f"{len(broken)} audit chain(s) broken.")
