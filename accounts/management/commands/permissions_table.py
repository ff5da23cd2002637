from django.core.management.base import BaseCommand

from accounts.policy import permissions_table_markdown


class Command(BaseCommand):
    help = "Print the role x permission table that docs/permissions.md must contain."

    def handle(self, *args, **options):
        self.stdout.write(permissions_table_markdown(), ending="")
