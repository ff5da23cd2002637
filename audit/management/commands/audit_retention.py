from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from audit import retention


class Command(BaseCommand):
    help = (
        "Make the audit log's next monthly partitions, then archive (encrypted, verified) and "
        "drop every month that ended more than twelve months ago: what the daily task does."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_model = apps.get_model(settings.PORTAL_TENANT_MODEL)
        agency_ids = list(tenant_model.objects.order_by("pk").values_list("pk", flat=True))
        for name in retention.ensure_partitions():
            self.stdout.write(f"partition {name} is ready")
        for done in retention.maintain(agency_ids):
            self.stdout.write(
                f"{done.month:%Y-%m}: {len(done.archives)} chain(s), {done.events} events "
                "archived and verified; partition dropped"
            )
