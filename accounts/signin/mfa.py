"""Two-factor sign-in: TOTP devices (django-otp), recovery codes, the session's second-factor
state and the agency policy that decides who must have it.

- A TOTP device is verified under a row lock, so the same code cannot pass twice even when
  two requests race (django-otp refuses a time step at or before ``last_t``).
- Its secret is sealed with the master keyring, bound to the device and its owner
  (accounts.models.SealedTOTPDevice, TOTPSecret); django-otp's own ``key`` column holds
  only a marker. A secret that cannot be opened refuses every code (and is audited).
  The secret of an enrolment in progress waits in the session sealed as well.
- Recovery codes carry 80 random bits each and are stored as salted SHA-256 digests; using
  one marks it used in the same UPDATE that finds it.
- The session remembers how the second factor was passed (``totp``, ``recovery``, ``sso``)
  and when; staff pages check it through ``session_satisfies``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import secrets
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit
from accounts import audit_events
from accounts.models import (
    Agency,
    Membership,
    RecoveryCode,
    Role,
    SealedTOTPDevice,
    TOTPSecretUnavailable,
    User,
    seal_plaintext_totp_key,
)
from accounts.signin import sessions
from vault import keyring

SESSION_MFA_METHOD = "_mfa_method"
SESSION_MFA_AT = "_mfa_at"
# Methods that count as a second factor. "sso" only when the agency trusts its OIDC or SAML
# provider to have checked one (Agency.sso_counts_as_mfa).
SECOND_FACTORS = {"totp", "recovery", "sso"}

_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper


# --- Policy ---------------------------------------------------------------------------------


def required_for(membership: Membership | None, agency: Agency | None) -> bool:
    """Whether this member must pass a second factor to use the staff area."""
    if membership is None or agency is None:
        return False
    if getattr(membership, "support_grant", None) is not None:
        return True  # a platform operator under support access, whatever the agency's policy
    if agency.mfa_required_for_staff:
        return True
    return membership.role == Role.ADMIN and agency.mfa_required_for_admins


def required_by(user: User) -> list[str]:
    """Names of the agencies whose policy requires two-factor of this user: every agency
    they work for, not only the host's. The person's own context (``app.user_id``) lets
    row-level security show all their memberships (reading only: writes stay bound to the
    host's agency). Call only in the person's own request."""
    sessions.own_sessions_context(user)
    return [
        m.agency.name
        for m in Membership.objects.filter(user=user, is_active=True).select_related("agency")
        if required_for(m, m.agency)
    ]


# --- Devices --------------------------------------------------------------------------------


def confirmed_device(user: User) -> SealedTOTPDevice | None:
    return SealedTOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_second_factor(user: User) -> bool:
    return SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()


SESSION_PENDING_KEY = "_mfa_pending_key"
DEVICE_NAME = "Authenticator app"
SECRET_BYTES = 20  # 160 bits, RFC 4226's recommendation and django-otp's default


def _pending_aad(user: User) -> str:
    return f"totp-pending:user:{user.pk}"


def pending_secret(session, user: User) -> bytes | None:
    """The secret of the enrolment in progress, opened from the session (where it waits
    sealed: sessions are rows in the database), or None when there is none or it does not
    open (another person's, an older plaintext form, a removed master key)."""
    stored = session.get(SESSION_PENDING_KEY)
    if not isinstance(stored, str) or not stored:
        return None
    try:
        return keyring.open_sealed(base64.b64decode(stored), aad=_pending_aad(user))
    except (keyring.SealError, binascii.Error, ValueError):
        return None


def pending_device(*, user: User, http_request: HttpRequest) -> SealedTOTPDevice:
    """The device of an enrolment in progress, not saved: its secret waits in the session,
    sealed (reused on reload, so the QR code does not change under the user's phone), and
    becomes a device row only once a correct code confirms it (``confirm_pending``)."""
    secret = pending_secret(http_request.session, user)
    if secret is None:
        secret = secrets.token_bytes(SECRET_BYTES)
        sealed = keyring.seal(secret, aad=_pending_aad(user))
        http_request.session[SESSION_PENDING_KEY] = base64.b64encode(sealed).decode()
    return SealedTOTPDevice.unsaved(user=user, name=DEVICE_NAME, secret=secret, confirmed=False)


def confirm_pending(code: str, *, user: User, http_request: HttpRequest) -> SealedTOTPDevice | None:
    """Check a code against the pending secret; when right, save the confirmed device (its
    secret sealed, its last used time step recorded, so the same code cannot pass again) and
    forget the secret. Call inside a transaction."""
    secret = pending_secret(http_request.session, user)
    code = normalise_code(code)
    if secret is None or not code.isdigit():
        return None
    device = SealedTOTPDevice.unsaved(user=user, name=DEVICE_NAME, secret=secret, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if len(code) != device.digits or not totp.verify(int(code), device.tolerance):
        return None
    device.last_t = totp.t()
    device.drift = totp.drift
    device.set_last_used_timestamp(commit=False)
    # A half-finished enrolment of an earlier version left unconfirmed rows: not needed.
    SealedTOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.save()
    http_request.session.pop(SESSION_PENDING_KEY, None)
    return device


def manual_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an authenticator by hand."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no script).

    The page embeds it unescaped (|safe). That is sound because the URL's text (the
    person's email, the agency's name) only decides which squares are dark: the output is
    an <svg> with <path> shapes and nothing else, which a test checks with hostile input."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    # Drop the XML prolog: the fragment is embedded in the page.
    return svg[svg.index("<svg") :]


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def looks_like_recovery_code(code: str) -> bool:
    """Recovery codes have 16 characters; authenticator codes have 6 digits."""
    return len(normalise_code(code)) == 16


def _lock_device(device: TOTPDevice) -> SealedTOTPDevice:
    """Re-read the device under a row lock (scoped to its owner: devices belong to a person,
    not an agency), so two sign-ins racing with one code cannot both pass."""
    return SealedTOTPDevice.objects.select_for_update().get(user=device.user_id, pk=device.pk)


def verify_totp(device: TOTPDevice, code: str, *, http_request: HttpRequest | None = None) -> bool:
    """Check a 6-digit code under a row lock; replayed and throttled codes fail. So does
    every code of a device whose sealed secret does not open, recorded as
    ``mfa.secret_unreadable`` in the request's agency chain (without a request, the
    platform's: call in the platform context); the caller then records the failed attempt
    as for any wrong code."""
    code = normalise_code(code)
    if not (code.isdigit() and len(code) == device.digits):
        with transaction.atomic():
            locked = _lock_device(device)
            locked.throttle_increment(commit=True)
        return False
    try:
        with transaction.atomic():
            locked = _lock_device(device)
            seal_plaintext_totp_key(locked)  # one made by the previous release's code
            verified = locked.verify_token(code)
    except TOTPSecretUnavailable as error:
        audit.record(
            audit_events.MFA_SECRET_UNREADABLE.code,
            http_request=http_request,
            actor=device.user_id,
            details={"device": device.pk, "reason": str(error)},
        )
        return False
    device.refresh_from_db()
    return verified


def throttle_wait_seconds(device: TOTPDevice) -> int:
    """Seconds until django-otp's exponential back-off lets the device be tried again."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data:
        return 0
    locked_until = data.get("locked_until")
    if locked_until is None:
        return 0
    return max(1, int((locked_until - timezone.now()).total_seconds()) + 1)


# --- Recovery codes ------------------------------------------------------------------------


def _digest(user: User, code: str) -> str:
    return hashlib.sha256(f"{user.pk}:{normalise_code(code)}".encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))  # 16 x 5 bits = 80
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def replace_recovery_codes(user: User) -> list[str]:
    """A fresh set of codes (the old ones stop working). Returned once, to show once."""
    codes = [_new_code() for _ in range(settings.MFA_RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, digest=_digest(user, code)) for code in codes
        )
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend a code: the one UPDATE both finds it unused and marks it used, so two requests
    with the same code cannot both pass."""
    if len(normalise_code(code)) != 16:
        return False
    digest = _digest(user, code)
    # Compare in constant time against the candidates rather than trusting the index lookup
    # alone (the digest is not secret, but the habit costs nothing).
    candidates = RecoveryCode.objects.filter(user=user, used_at__isnull=True).values_list(
        "pk", "digest"
    )
    match = next((pk for pk, d in candidates if hmac.compare_digest(d, digest)), None)
    if match is None:
        return False
    updated = RecoveryCode.objects.filter(user=user, pk=match, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return updated == 1


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def remove_all(user: User) -> None:
    """Turn two-factor off for a user (their own choice, or an admin's reset)."""
    SealedTOTPDevice.objects.filter(user=user).delete()  # their sealed secrets with them
    RecoveryCode.objects.filter(user=user).delete()


# --- Session state -------------------------------------------------------------------------


def mark_session(request, method: str) -> None:
    request.session[SESSION_MFA_METHOD] = method
    request.session[SESSION_MFA_AT] = int(time.time())


def session_method(request) -> str | None:
    session = getattr(request, "session", None)
    return session.get(SESSION_MFA_METHOD) if session is not None else None


def session_satisfies(request) -> bool:
    return session_method(request) in SECOND_FACTORS
