"""Agencies (the tenants), users and memberships.

Users are global: a resident may file with several agencies. What a user may do inside an
agency comes only from their Membership there (see accounts/policy.py); a user without one is
a requester (a member of the public) in that agency.
"""

import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a time zone name such as America/Chicago."
        ) from None


class Agency(models.Model):
    """The tenant. Resolved from the Host header by accounts.middleware.HostMiddleware."""

    slug = models.SlugField(
        max_length=63, unique=True, help_text="Subdomain: <slug>.<PORTAL_BASE_DOMAIN>"
    )
    name = models.CharField(max_length=200)
    custom_domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantOwned(models.Model):
    """Base for every table that belongs to one agency.

    The agency column is NOT NULL and indexed (first in any composite index), and each such
    table gets a FORCEd row-level-security policy in its migration (accounts.rls).
    tests/accounts/test_rls.py fails when a subclass's table has no policy.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, db_index=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # Email login is case-insensitive, like the unique constraint below.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # unique=True satisfies Django's auth checks; the constraint below makes it case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # Platform operators; agency roles never come from this flag.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEPARTMENT_ADMIN = "department_admin", "Department admin"
    PUBLISHER = "publisher", "Publisher"
    STAFF = "staff", "Staff"


class Membership(TenantOwned):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="membership_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.agency_id}"
