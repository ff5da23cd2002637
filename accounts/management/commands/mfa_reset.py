"""Platform support's two-factor reset: for someone who lost their phone and their recovery
codes and works for more than one agency (an agency admin may reset only people who work for
that agency alone). Check who is asking out of band first, as the admin page asks admins to."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.services import two_factor
from accounts.signin import mfa
from accounts.tenancy import agency_context


class Command(BaseCommand):
    help = "Turn off two-factor sign-in for an account and end its sessions everywhere."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--reason", required=True, help="Why (recorded in the audit log).")

    def handle(self, *args, email: str, reason: str, **options):
        with agency_context(None, platform=True), transaction.atomic():
            user = User.objects.filter(email__iexact=email.strip()).first()
            if user is None:
                raise CommandError(f"No account uses {email}.")
            had = mfa.has_second_factor(user)
            ended = two_factor.two_factor_reset_by_support(user=user, reason=reason)
        self.stdout.write(
            f"Two-factor sign-in {'reset' if had else 'was not set up'} for {user.email}; "
            f"{ended} session(s) ended."
        )
