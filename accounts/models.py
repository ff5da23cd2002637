"""Agencies (the tenants), users and memberships.

Users are global: a resident may file with several agencies. What a user may do inside an
agency comes only from their Membership there (see accounts/policy.py); a user without one is
a requester (a member of the public) in that agency."""

import uuid
import zoneinfo
from typing import Any, ClassVar, TypeAlias

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.contact import validate_public_phone
from accounts.host_cache import AgencyQuerySet
from vault.keyring import SealError, open_sealed, seal


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
    # A vault.locations name: where its blobs live. Set by platform operators at creation, fixed
    # once anything is stored (accounts/services/agencies.py checks both).
    storage_location = models.CharField(max_length=40, default="default")

    # --- Sign-in policy, set by the agency's admins (accounts.admin_services) ---------------
    mfa_required_for_admins = models.BooleanField(
        "Require two-factor sign-in for admins", default=True
    )
    mfa_required_for_staff = models.BooleanField(
        "Require two-factor sign-in for all staff", default=False
    )
    # False: staff sign in only through the agency's SSO (OIDC, SAML or LDAP).
    staff_password_login = models.BooleanField("Staff may sign in with a password", default=True)
    # An identity provider that checks a second factor itself (OIDC, SAML) may stand in for
    # the portal's own; an LDAP bind is a password and never counts.
    sso_counts_as_mfa = models.BooleanField(
        "Single sign-on through OIDC or SAML counts as two-factor", default=True
    )
    staff_idle_minutes = models.PositiveIntegerField(
        "Sign staff out after this many idle minutes",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(12 * 60)],
    )
    staff_session_hours = models.PositiveIntegerField(
        "Sign staff out this many hours after they sign in",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )

    # --- How the public reaches the agency (accounts.services.agency_contact) -------------
    # Shown in every page's footer on the agency's host and in the "too many attempts"
    # messages; the two notices are plain text (paragraphs kept, never rendered as HTML).
    contact_phone = models.CharField(
        "Public phone number", max_length=40, blank=True, validators=[validate_public_phone]
    )
    contact_email = models.EmailField("Public email address", max_length=254, blank=True)
    contact_address = models.TextField("Office or postal address", max_length=500, blank=True)
    office_hours = models.TextField("Office hours", max_length=500, blank=True)
    privacy_notice = models.TextField("Privacy notice", max_length=20000, blank=True)
    accessibility_statement = models.TextField(
        "Accessibility statement", max_length=20000, blank=True
    )

    objects = AgencyQuerySet.as_manager()  # bulk changes clear accounts/host_cache.py

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# What an agency admin edits on "Contact and notices" (accounts.services.agency_contact).
CONTACT_FIELDS = (
    "contact_phone",
    "contact_email",
    "contact_address",
    "office_hours",
    "privacy_notice",
    "accessibility_statement",
)


# The sign-in policy: fields an agency admin edits together (accounts.services.signin_policy).
SIGNIN_POLICY_FIELDS = (
    "mfa_required_for_admins",
    "mfa_required_for_staff",
    "staff_password_login",
    "sso_counts_as_mfa",
    "staff_idle_minutes",
    "staff_session_hours",
)


class TenantOwned(models.Model):
    """Base for every table that belongs to one agency.

    The agency column is NOT NULL and indexed (first in any composite index), and each such
    table gets a FORCEd row-level-security policy in its migration (accounts.rls).
    tests/accounts/test_rls.py fails when a subclass's table has no policy."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, db_index=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # Email login is case-insensitive exactly as the unique constraint below is: LOWER()
        # against the typed address lower-cased the way django-axes' lockout key is
        # (accounts.signin.lockout). iexact (UPPER() in PostgreSQL) would be more lenient: it folds
        # the dotless i (U+0131) into "I", so "phil\u0131p@..." would sign in as "philip@..."
        # while its failures counted under another lockout key.
        return self.alias(email_lower=Lower("email")).get(email_lower=str(username).lower())

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # unique=True satisfies Django's auth checks; the constraint below makes it case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True, validators=[validate_public_phone])
    is_active = models.BooleanField(default=True)
    # Platform operators; agency roles never come from this flag.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The language the person chose (the language switch, or the page they signed up on):
    # their emails are written in it. Blank: not chosen, the default (accounts.language).
    language = models.CharField(max_length=8, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

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


# ``request.user``: an account or the anonymous visitor (who holds no permission).
AnyUser: TypeAlias = User | AnonymousUser


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    DEPARTMENT_ADMIN = "department_admin", "Department admin"
    PUBLISHER = "publisher", "Publisher"
    STAFF = "staff", "Staff"


class Membership(TenantOwned):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # Deactivated staff keep their history but hold no role: policy.membership_for ignores
    # them, and deactivation ends their sessions at once (accounts.admin_services).
    is_active = models.BooleanField(default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "user"], name="membership_one_per_agency"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.agency_id}"


class Invitation(TenantOwned):
    """An agency admin's invitation to join as staff. Only a SHA-256 digest of the token is
    stored; the link itself exists only in the email. Single use, expires (settings)."""

    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=32, choices=Role.choices)
    token_digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "-created_at"], name="invitation_agency_recent")]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ProviderKind(models.TextChoices):
    GOOGLE = "google", "Google Workspace (OpenID Connect)"
    MICROSOFT = "microsoft", "Microsoft Entra ID (OpenID Connect)"
    OIDC = "oidc", "Other OpenID Connect provider"
    SAML = "saml", "SAML 2.0 (AD FS, Entra ID, Okta)"
    LDAP = "ldap", "LDAP / Active Directory"


class IdentityProvider(TenantOwned):
    """One way into an agency: an OIDC client, a SAML service provider or an LDAP directory.

    ``settings`` holds the non-secret configuration (shape per kind in accounts/sso/config.py);
    the client secret or bind password is sealed with the master keyring, bound to
    ``public_id`` (vault/keyring.py), and never shown again once saved."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    name = models.CharField("Name people will recognise", max_length=80)
    is_enabled = models.BooleanField(default=True)
    settings = models.JSONField(default=dict)
    sealed_secret = models.BinaryField(null=True, blank=True)
    # Accounts for people the provider vouches for but the portal doesn't know yet: created
    # with this role (OIDC/SAML) or from the group mapping (LDAP). Blank: invitation only.
    provision_role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["agency", "kind"], name="idp_agency_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_aad(self) -> str:
        return f"identity-provider:{self.agency_id}:{self.public_id}"


class ExternalIdentity(TenantOwned):
    """The link between an identity at a provider and a portal account: (provider, subject),
    never an email address (an IdP's email claim can be re-assigned or spoofed)."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "provider", "subject"], name="external_identity_unique"
            ),
        ]
        indexes = [models.Index(fields=["agency", "user"], name="external_identity_user")]

    def __str__(self) -> str:
        return f"{self.user_id} at provider {self.provider_id}"


class SamlAssertionUse(TenantOwned):
    """Assertion ids already consumed, kept until the assertion would have expired anyway:
    a captured SAML response cannot be posted a second time."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "provider", "assertion_id"], name="saml_assertion_once"
            ),
        ]

    def __str__(self) -> str:
        return self.assertion_id


class FormSubmission(models.Model):
    """A form that was sent and did what it was for: its one-time token (accounts.once)
    claimed, and the page its result is on. The same form sent again (a double click, a
    retried post) finds this row and goes to that page instead of creating the thing twice.
    ``key`` is a digest of the agency, the token and what was sent, never the token itself.
    ``agency`` is the host's, null on the platform's own domain; row-level security as for
    sessions (migration 0006). Rows are forgotten once their token has expired."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, null=True, blank=True)
    key = models.CharField(max_length=64, unique=True)
    result_url = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["agency", "created_at"], name="form_submission_age")]

    def __str__(self) -> str:
        return f"Form sent at {self.created_at:%Y-%m-%d %H:%M}"


class SupportRole(models.TextChoices):
    """What a platform operator may be granted (accounts.policy holds each one's permissions):
    read-only by default; never a role that manages the agency's people or its grants."""

    READ_ONLY = "support_read_only", "Read-only support"
    STAFF = Role.STAFF.value, Role.STAFF.label
    PUBLISHER = Role.PUBLISHER.value, Role.PUBLISHER.label


class SupportGrant(TenantOwned):
    """A platform operator's time-limited access to one agency (accounts.support): asked for
    and approved by the agency's admins, or started in an emergency (break-glass). While
    live, policy.membership_for treats the operator as holding ``role`` there."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an admin"
        ACTIVE = "active", "Granted"
        DENIED = "denied", "Denied"
        ENDED = "ended", "Ended"

    operator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=32, choices=SupportRole.choices)
    reason = models.TextField(max_length=2000)
    duration_minutes = models.PositiveIntegerField()
    is_emergency = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(max_length=2000, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    first_used_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=16, blank=True)  # expired, revoked, withdrawn

    class Meta:
        indexes = [models.Index(fields=["agency", "status", "operator"], name="support_live")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=1, duration_minutes__lte=24 * 60),
                name="support_grant_at_most_a_day",
            ),
        ]

    def __str__(self) -> str:
        return f"Support access {self.pk} for {self.operator}"

    def is_live(self, now) -> bool:
        return (
            self.status == self.Status.ACTIVE
            and self.starts_at is not None
            and self.expires_at is not None
            and self.starts_at <= now < self.expires_at
        )


class RecoveryCode(models.Model):
    """Single-use two-factor recovery codes, shown once. Only a SHA-256 digest (salted with the
    user id) is kept: each code carries 80 random bits, so a fast hash cannot be reversed by
    guessing, and no key has to survive rotation for the codes to keep working."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="recovery_code_unique"),
        ]

    def __str__(self) -> str:
        return f"Recovery code of {self.user_id}"


class UserSession(models.Model):
    """What the portal knows about each signed-in session, for the "your sessions" page and
    for ending sessions. Sessions live per host (``__Host-`` cookies): ``agency`` is the
    agency whose host the session belongs to, null on the platform's own domain. Row-level
    security shows an agency's rows to its own context only (migration 0004)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, null=True, blank=True)
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # How the session signed in: password, ldap, oidc, saml (shown to the user).
    method = models.CharField(max_length=16, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "user", "ended_at"], name="session_agency_user")]

    def __str__(self) -> str:
        return f"Session of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"


class PendingSignup(models.Model):
    """A resident's sign-up waiting for them to confirm their email address. Nothing is
    created as an account until then, so nobody can hold an address they don't own; only the
    token's digest and the password's hash are stored, and the row expires in an hour."""

    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=200, blank=True)
    password = models.CharField(max_length=256)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Pending sign-up for {self.email}"


class EmailChange(models.Model):
    """A signed-in user's new address, confirmed by a link sent to it (single use, 1 hour)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    new_email = models.EmailField(max_length=254)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Email change of {self.user_id}"


# --- Two-factor secrets -------------------------------------------------------------------

# What django-otp's own ``key`` column holds for every device the portal makes. Not hex: used
# as a key, django-otp's TOTPDevice.bin_key raises on it, so code that reached the devices
# around SealedTOTPDevice (django_otp.devices_for_user, match_token) fails closed instead of
# checking codes against a value anyone with a database dump could read.
SEALED_TOTP_KEY = "sealed:accounts_totpsecret"


class TOTPSecretUnavailable(Exception):
    """A device whose sealed secret is missing or cannot be opened (the master key that
    sealed it was removed, the bytes were changed or copied from another row): no code can
    pass it, and the caller treats the attempt as a wrong code."""


def totp_secret_aad(device_id: int, user_id: int) -> str:
    """What a TOTP secret is bound to: its device and that device's owner. A sealed secret
    copied onto another device, or a device moved to another account, no longer opens."""
    return f"totp-device:{device_id}:user:{user_id}"


class TOTPSecret(models.Model):
    """The secret of one authenticator app (a django-otp TOTPDevice), sealed with the master
    keyring (vault/keyring.py) and bound to the device and its owner. Devices belong to a
    person, not an agency: like RecoveryCode, no agency column and no row-level security.
    ``manage.py reseal_secrets`` re-seals these rows after a master-key rotation."""

    device = models.OneToOneField(
        TOTPDevice, on_delete=models.CASCADE, primary_key=True, related_name="sealed_secret"
    )
    sealed = models.BinaryField()

    def __str__(self) -> str:
        return f"Sealed secret of TOTP device {self.device_id}"


def seal_plaintext_totp_key(device: TOTPDevice) -> bool:
    """Seal the key of a device whose ``key`` column still holds django-otp's plaintext hex
    (made by code from before the sealing, e.g. on a process of the previous release during
    a deploy) and put SEALED_TOTP_KEY in its place. True when it did. Call under the
    device's row lock. A key that is not hex could never verify: it is only replaced."""
    if device.key == SEALED_TOTP_KEY:
        return False
    try:
        secret = bytes.fromhex(device.key)
    except ValueError:
        secret = b""
    with transaction.atomic():
        if secret:
            TOTPSecret.objects.update_or_create(
                device_id=device.pk,
                defaults={"sealed": seal(secret, aad=totp_secret_aad(device.pk, device.user_id))},
            )
        TOTPDevice.objects.filter(user=device.user_id, pk=device.pk).update(key=SEALED_TOTP_KEY)
    device.key = SEALED_TOTP_KEY
    return True


class SealedTOTPDevice(TOTPDevice):
    """django-otp's TOTPDevice whose secret comes from TOTPSecret instead of the plaintext
    ``key`` column. Everything else is django-otp's: verify_token (tolerance, drift, replay
    refusal through ``last_t``, throttling) and config_url read the secret only through
    ``bin_key``. Save a new device made with ``unsaved(...)``: the secret is sealed in the
    same transaction and the ``key`` column always holds SEALED_TOTP_KEY."""

    # The secret of a device not saved yet (an enrolment waiting for its first code).
    _unsaved_secret: bytes | None = None

    class Meta:
        proxy = True
        verbose_name = "TOTP device (sealed secret)"

    @classmethod
    def unsaved(
        cls, *, user: User, name: str, secret: bytes, confirmed: bool
    ) -> "SealedTOTPDevice":
        device = cls(user=user, name=name, key=SEALED_TOTP_KEY, confirmed=confirmed)
        device._unsaved_secret = bytes(secret)
        return device

    @property
    def bin_key(self) -> bytes:
        if self._unsaved_secret is not None:
            return self._unsaved_secret
        sealed = (
            TOTPSecret.objects.filter(device_id=self.pk).values_list("sealed", flat=True).first()
            if self.pk is not None
            else None
        )
        if sealed is None:
            raise TOTPSecretUnavailable("the device has no sealed secret")
        try:
            return open_sealed(bytes(sealed), aad=totp_secret_aad(self.pk, self.user_id))
        except SealError as error:
            raise TOTPSecretUnavailable(str(error)) from None

    def save(self, *args, **kwargs) -> None:
        self.key = SEALED_TOTP_KEY
        with transaction.atomic():
            super().save(*args, **kwargs)
            if self._unsaved_secret is not None:
                TOTPSecret.objects.update_or_create(
                    device_id=self.pk,
                    defaults={
                        "sealed": seal(
                            self._unsaved_secret, aad=totp_secret_aad(self.pk, self.user_id)
                        )
                    },
                )
                self._unsaved_secret = None
