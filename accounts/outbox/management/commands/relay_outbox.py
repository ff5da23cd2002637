"""Send the background work that the outbox still holds (what beat's relay does every minute),
for an operator after a broker outage: ``manage.py relay_outbox [--all]``."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from accounts.outbox import relay


class Command(BaseCommand):
    help = "Send the tasks still waiting in the outbox to the broker, then delete their rows."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also send rows younger than the grace period (their own process may still "
            "be sending them: a row is sent once either way).",
        )

    def handle(self, *args, **options) -> None:
        grace = timedelta(0) if options["all"] else relay.GRACE
        sent = relay.relay(grace=grace)
        left = relay.pending()
        self.stdout.write(f"Sent {sent} task(s); {left} still waiting.")
        if left and sent == 0 and options["all"]:
            raise CommandError("The broker could not be reached: nothing was sent.")
