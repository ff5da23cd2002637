from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ops.models import ScanRun
from ops.selfscan import PASSED, STATUS_LABELS
from ops.selfscan.services import self_scan_run


class Command(BaseCommand):
    help = (
        "Run the self-scan now (check --deploy, the portal's security headers and cookies, "
        "pip-audit of the lock file, personal data in public documents), store it, and tell "
        "the operators about anything that did not pass. Exits non-zero unless all passed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = self_scan_run(trigger=ScanRun.Trigger.COMMAND)
        for check in run.checks:
            label = STATUS_LABELS.get(check["status"], check["status"])
            self.stdout.write(f"{check['label']}: {label}. {check['summary']}")
            for line in check["findings"]:
                self.stdout.write(f"  - {line}")
        if run.status != PASSED:
            raise CommandError(f"Self-scan {run.pk}: {STATUS_LABELS.get(run.status, run.status)}.")
        self.stdout.write(f"Self-scan {run.pk}: passed.")
