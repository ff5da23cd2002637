from getpass import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Agency
from accounts.tenancy import agency_context
from mailin.models import MailboxSecurity
from mailin.services import mailbox


class Command(BaseCommand):
    help = (
        "Set the agency's own reply mailbox (IMAP over TLS), read by beat every five minutes. "
        "The password is asked for at the prompt (never on the command line); leave it empty "
        "to keep the stored one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--host", required=True)
        parser.add_argument("--port", type=int, default=993)
        parser.add_argument(
            "--security", choices=MailboxSecurity.values, default=MailboxSecurity.TLS
        )
        parser.add_argument("--user", required=True)
        parser.add_argument("--folder", default="INBOX")
        parser.add_argument("--disable", action="store_true", help="stop reading it")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        agency = Agency.objects.filter(slug=slug).first()
        if agency is None:
            raise CommandError(f"No agency {slug!r}. Nothing was changed.")
        password = getpass("Mailbox password (empty: keep the stored one): ")
        try:
            with agency_context(agency):
                mailbox.mailbox_save(
                    agency=agency,
                    actor=None,
                    host=options["host"],
                    port=options["port"],
                    security=options["security"],
                    username=options["user"],
                    password=password,
                    folder=options["folder"],
                    enabled=not options["disable"],
                )
        except ValueError as error:
            raise CommandError(f"{error} Nothing was changed.") from None
        self.stdout.write(f"The reply mailbox of {slug!r} is set.")
