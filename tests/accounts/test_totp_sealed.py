"""Two-factor (TOTP) secrets are sealed at rest with the master keyring: no column of the
database, the session table included, holds one in plaintext; a sealed secret works only on
its own device of its own owner; one that cannot be opened refuses every code, audited,
never a server error; the migration seals the devices that were stored in plaintext; and
``reseal_secrets`` moves them to a new master key."""

from __future__ import annotations

import base64
import importlib
import json
import os
import secrets
from io import StringIO

import django_otp
import pytest
from django.apps import apps as django_apps
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice
from psycopg import sql

from accounts.models import (
    SEALED_TOTP_KEY,
    SealedTOTPDevice,
    TOTPSecret,
    TOTPSecretUnavailable,
)
from accounts.signin import mfa
from accounts.tenancy import agency_context
from tests.accounts.identity_helpers import (
    add_authenticator,
    code_for,
    events,
    prove_account,
    sign_in,
    signed_in_user_id,
    text,
)
from tests.db_helpers import race_behind_a_lock, run_in_committed_thread
from tests.factories import UserFactory
from vault import keyring

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0005_totp_secrets_sealed")


def plaintext_forms(secret: bytes) -> set[str]:
    """The ways a secret could be written down: hex (django-otp's column), base32 (the QR
    code and the typed key, with and without padding or grouping), base64 (JSON, sessions)."""
    b32 = base64.b32encode(secret).decode()
    return {
        secret.hex(),
        b32,
        b32.rstrip("="),
        " ".join(b32.rstrip("=")[i : i + 4] for i in range(0, len(b32.rstrip("=")), 4)),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
    }


def database_text(agency) -> str:
    """Every row of every table in the schema as text (bytea as hex), read in the agency's
    context so its tenant rows are included, plus the decoded contents of every session."""
    parts = []
    with agency_context(agency), connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = sorted(name for (name,) in cursor.fetchall())
        assert "accounts_totpsecret" in tables and "otp_totp_totpdevice" in tables
        for table in tables:
            query = sql.SQL("SELECT row_to_json(t)::text FROM {} AS t").format(
                sql.Identifier(table)
            )
            cursor.execute(query.as_string(cursor.connection))
            parts.extend(row for (row,) in cursor.fetchall())
    for data in Session.objects.values_list("session_data", flat=True):
        parts.append(json.dumps(SessionStore().decode(data)))
    return "\n".join(parts).lower()


def assert_nowhere_in_the_database(secret: bytes, agency) -> None:
    dump = database_text(agency)
    for form in plaintext_forms(secret):
        assert form.lower() not in dump, form


def phone(user, secret: bytes) -> SealedTOTPDevice:
    """The authenticator app holding ``secret`` (never saved)."""
    return SealedTOTPDevice.unsaved(user=user, name="phone", secret=secret, confirmed=False)


def enrol_through_the_pages(client, user) -> bytes:
    """Open the set-up page, take the secret as the phone does (the page shows it), confirm
    with a code. Returns the secret."""
    page = client.get(reverse("accounts:mfa_setup"))
    assert page.status_code == 200
    secret = mfa.pending_secret(client.session, user)
    assert secret is not None
    assert mfa.manual_key(phone(user, secret)) in text(page)
    response = client.post(reverse("accounts:mfa_setup"), {"code": code_for(phone(user, secret))})
    assert response.status_code == 200 and mfa.has_second_factor(user)
    return secret


def signs_in_with(tenant, user, code: str, *, answer: int) -> Client:
    """Sign in with the password, then ``code`` at the code step, whose ``answer`` is 302
    (signed in, sent on) or 200 (the code page again: refused); never a server error."""
    client = Client(HTTP_HOST=tenant.host)
    assert sign_in(client, user.email)["Location"] == reverse("accounts:mfa_verify")
    response = client.post(reverse("accounts:mfa_verify"), {"code": code})
    assert response.status_code == answer
    return client


# --- At rest ----------------------------------------------------------------------------------


def test_no_column_of_the_database_holds_the_secret_in_plaintext(tenant, client_for):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    prove_account(client)
    client.get(reverse("accounts:mfa_setup"))
    pending = mfa.pending_secret(client.session, tenant.requester)
    # While the enrolment waits for its first code, the secret sits in the session: sealed.
    assert_nowhere_in_the_database(pending, tenant.agency)

    secret = enrol_through_the_pages(client, tenant.requester)

    assert secret == pending
    assert_nowhere_in_the_database(secret, tenant.agency)
    (device,) = TOTPDevice.objects.filter(user=tenant.requester)
    assert device.key == SEALED_TOTP_KEY
    assert keyring.sealed_with_current_key(TOTPSecret.objects.get(device=device).sealed)


def test_the_secret_being_set_up_opens_only_for_its_own_person(tenant, client_for):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    prove_account(client)
    client.get(reverse("accounts:mfa_setup"))

    assert mfa.pending_secret(client.session, tenant.requester) is not None
    assert mfa.pending_secret(client.session, tenant.staff) is None


def test_a_plaintext_secret_left_in_a_session_by_the_old_code_is_replaced(tenant, client_for):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    prove_account(client)
    legacy = secrets.token_bytes(20)
    session = client.session
    session[mfa.SESSION_PENDING_KEY] = legacy.hex()
    session.save()

    confirm = client.post(
        reverse("accounts:mfa_setup"), {"code": code_for(phone(tenant.requester, legacy))}
    )

    assert confirm.status_code == 200 and "didn't work" in text(confirm)
    assert not mfa.has_second_factor(tenant.requester)
    fresh = mfa.pending_secret(client.session, tenant.requester)
    assert fresh is not None and fresh != legacy
    assert_nowhere_in_the_database(legacy, tenant.agency)


# --- Verification ----------------------------------------------------------------------------


def test_enrolment_then_sign_in_with_a_code_works_and_a_replayed_code_is_refused(
    tenant, client_for
):
    client = client_for(tenant.requester, tenant.host, second_factor=False)
    prove_account(client)
    enrol_through_the_pages(client, tenant.requester)
    device = mfa.confirmed_device(tenant.requester)

    next_code = code_for(device, offset_steps=1)  # within django-otp's tolerance of one step
    first = signs_in_with(tenant, tenant.requester, next_code, answer=302)
    again = signs_in_with(tenant, tenant.requester, next_code, answer=200)

    assert signed_in_user_id(first) == tenant.requester.pk
    assert signed_in_user_id(again) is None
    assert [e.details["method"] for e in events(tenant.agency, "mfa.verified")] == ["totp"]


def test_a_sealed_secret_copied_onto_another_persons_device_does_not_verify(tenant):
    # Someone able to write to the database copies their own sealed secret onto the
    # victim's device, hoping their own authenticator's codes then open the victim's account.
    attacker = add_authenticator(tenant.publisher)
    victim = add_authenticator(tenant.staff)
    TOTPSecret.objects.filter(device=victim).update(
        sealed=TOTPSecret.objects.get(device=attacker).sealed
    )

    client = signs_in_with(tenant, tenant.staff, code_for(attacker), answer=200)

    assert signed_in_user_id(client) is None
    (unreadable,) = events(tenant.agency, "mfa.secret_unreadable")
    assert unreadable.actor_id == tenant.staff.pk
    assert unreadable.details["device"] == victim.pk
    assert events(tenant.agency, "mfa.failed")


def test_a_device_moved_to_another_account_no_longer_opens(tenant):
    device = add_authenticator(tenant.staff)
    TOTPDevice.objects.filter(pk=device.pk).update(user=tenant.publisher)

    moved = SealedTOTPDevice.objects.get(pk=device.pk)

    with pytest.raises(TOTPSecretUnavailable):
        moved.bin_key  # noqa: B018
    with agency_context(None, platform=True):  # no request: the platform's audit chain
        assert not mfa.verify_totp(moved, "123456")
    assert events(None, "mfa.secret_unreadable")


def test_a_tampered_sealed_secret_refuses_the_code_without_a_server_error(tenant):
    device = add_authenticator(tenant.staff)
    code = code_for(device)
    blob = bytearray(TOTPSecret.objects.get(device=device).sealed)
    blob[-1] ^= 1
    TOTPSecret.objects.filter(device=device).update(sealed=bytes(blob))

    client = Client(HTTP_HOST=tenant.host)
    sign_in(client, tenant.staff.email)
    response = client.post(reverse("accounts:mfa_verify"), {"code": code})

    assert response.status_code == 200
    assert "didn't work" in text(response)
    assert signed_in_user_id(client) is None
    (unreadable,) = events(tenant.agency, "mfa.secret_unreadable")
    assert "changed" in unreadable.details["reason"]
    assert code not in str(unreadable.details)
    (failed,) = events(tenant.agency, "mfa.failed")
    assert failed.actor_id == tenant.staff.pk


@pytest.mark.parametrize("damage", ["missing row", "master key removed"])
def test_a_secret_that_cannot_be_opened_refuses_every_code(tenant, settings, damage):
    device = add_authenticator(tenant.staff)
    code = code_for(device)
    if damage == "missing row":
        TOTPSecret.objects.filter(device=device).delete()
    else:
        settings.PORTAL_MASTER_KEYS = [os.urandom(32)]

    client = signs_in_with(tenant, tenant.staff, code, answer=200)

    assert signed_in_user_id(client) is None
    assert len(events(tenant.agency, "mfa.secret_unreadable")) == 1


def test_django_otp_finds_the_sealed_device_and_its_own_class_never_checks_a_code(tenant):
    device = add_authenticator(tenant.staff)
    code = code_for(device)

    # The persistent id (what django-otp's login() keeps in a session) names the proxy.
    found = Device.from_persistent_id(device.persistent_id)
    assert isinstance(found, SealedTOTPDevice) and found.pk == device.pk
    # django-otp's own listings skip proxies and hand out its TOTPDevice, whose key column
    # holds only the marker: it raises instead of checking codes against a known value.
    (listed,) = django_otp.devices_for_user(tenant.staff)
    assert type(listed) is TOTPDevice and listed.key == SEALED_TOTP_KEY
    with pytest.raises(ValueError):
        listed.verify_token(code)
    assert django_otp.verify_token(tenant.staff, device.persistent_id, code) == device


def test_turning_two_factor_off_removes_the_sealed_secret(tenant):
    device = add_authenticator(tenant.staff)
    mfa.remove_all(tenant.staff)
    assert not TOTPSecret.objects.filter(device_id=device.pk).exists()


# --- Migration and key rotation -------------------------------------------------------------


def test_the_migration_seals_existing_plaintext_devices_and_can_be_reversed(tenant):
    secret = secrets.token_bytes(20)
    legacy = TOTPDevice.objects.create(
        user=tenant.staff, name="phone", confirmed=True, key=secret.hex(), last_t=5
    )
    broken = TOTPDevice.objects.create(user=tenant.admin, name="phone", key="not hex")

    migration.seal_totp_keys(django_apps, None)
    migration.seal_totp_keys(django_apps, None)  # a second run changes nothing

    legacy.refresh_from_db()
    broken.refresh_from_db()
    assert legacy.key == broken.key == SEALED_TOTP_KEY
    assert legacy.last_t == 5
    assert not TOTPSecret.objects.filter(device_id=broken.pk).exists()
    assert_nowhere_in_the_database(secret, tenant.agency)
    device = mfa.confirmed_device(tenant.staff)
    assert device.bin_key == secret
    assert signed_in_user_id(signs_in_with(tenant, tenant.staff, code_for(device), answer=302))

    migration.unseal_totp_keys(django_apps, None)

    legacy.refresh_from_db()
    broken.refresh_from_db()
    assert legacy.key == secret.hex()
    assert len(bytes.fromhex(broken.key)) == 20


def test_reseal_secrets_moves_two_factor_secrets_to_the_new_master_key(tenant, settings):
    device = add_authenticator(tenant.staff)
    before = bytes(TOTPSecret.objects.get(device=device).sealed)
    new_key = os.urandom(32)
    settings.PORTAL_MASTER_KEYS = [new_key, *settings.PORTAL_MASTER_KEYS]
    out = StringIO()

    call_command("reseal_secrets", stdout=out)

    after = bytes(TOTPSecret.objects.get(device=device).sealed)
    assert "Re-sealed 1 secret(s)." in out.getvalue()
    assert after != before and keyring.sealed_with_current_key(after)
    settings.PORTAL_MASTER_KEYS = [new_key]  # the old key can go
    assert mfa.verify_totp(device, code_for(device))


def test_a_plaintext_device_made_by_the_previous_release_is_sealed_when_next_used(tenant):
    # During a deploy, a process still running the old code can enrol a device in plaintext.
    secret = secrets.token_bytes(20)
    TOTPDevice.objects.create(user=tenant.staff, name="phone", confirmed=True, key=secret.hex())
    device = mfa.confirmed_device(tenant.staff)

    assert mfa.verify_totp(device, code_for(device_with(secret)))

    assert TOTPDevice.objects.get(pk=device.pk).key == SEALED_TOTP_KEY
    assert mfa.confirmed_device(tenant.staff).bin_key == secret
    assert_nowhere_in_the_database(secret, tenant.agency)


def test_reseal_secrets_also_seals_plaintext_devices(tenant):
    secret = secrets.token_bytes(20)
    TOTPDevice.objects.create(user=tenant.staff, name="phone", confirmed=True, key=secret.hex())
    out = StringIO()

    call_command("reseal_secrets", stdout=out)

    assert "Re-sealed 1 secret(s)." in out.getvalue()
    assert_nowhere_in_the_database(secret, tenant.agency)
    assert mfa.confirmed_device(tenant.staff).bin_key == secret


def device_with(secret: bytes) -> TOTPDevice:
    """An unsaved device with this secret, only for computing its current code."""
    return SealedTOTPDevice.unsaved(user=None, name="x", secret=secret, confirmed=True)


def test_one_code_sent_twice_at_the_same_moment_passes_once():
    # Committed on other connections, so two verifications can really race for the device.
    device = run_in_committed_thread(lambda: add_authenticator(UserFactory()))
    code = code_for(device)

    def hold_device_row(locked, release):
        with transaction.atomic():
            list(TOTPDevice.objects.select_for_update().filter(pk=device.pk))
            locked.set()
            release.wait(20)

    def verify():
        return mfa.verify_totp(device, code)

    outcomes = race_behind_a_lock(hold_device_row, [verify, verify])

    assert sorted(outcomes, key=str) == [False, True]
