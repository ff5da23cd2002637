"""Hold from the public the requests made public before descriptions were checked for
personal data, when their summary or description holds some: staff review each (the request
page's "Description reviewed: publish") before it is public again. Safe to run again."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Agency
from accounts.tenancy import agency_context
from requests_portal.services import review


class Command(BaseCommand):
    help = "Hold public requests whose description holds personal data until staff review it."

    def add_arguments(self, parser):
        parser.add_argument("--agency", help="the agency's slug (default: every active agency)")

    def handle(self, *args, **options):
        agencies = Agency.objects.filter(is_active=True).order_by("slug")
        if options["agency"]:
            agencies = Agency.objects.filter(slug=options["agency"])
            if not agencies.exists():
                raise CommandError(f"No agency with the slug {options['agency']!r}.")
        for agency in agencies:
            with agency_context(agency):
                held = review.requests_hold_unreviewed(agency=agency)
            self.stdout.write(f"{agency.slug}: {held} request(s) held for staff review")
