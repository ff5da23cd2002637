"""Django's createsuperuser, with the password rules applied in non-interactive mode too.

Django validates the password only when it prompts for it; with ``--noinput`` and
``DJANGO_SUPERUSER_PASSWORD`` it would accept anything. Every path that sets a password runs
the same validators here, so this one does as well.
"""

import os

from django.contrib.auth.management.commands import createsuperuser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import User


class Command(createsuperuser.Command):
    def handle(self, *args, **options):
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options.get("interactive") and password:
            # User, not self.UserModel (typed as the abstract base): it is AUTH_USER_MODEL.
            candidate = User(**{User.USERNAME_FIELD: options.get(User.USERNAME_FIELD) or ""})
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from None
        return super().handle(*args, **options)
