"""Password hashing sized for a 512 MB dyno: OWASP's Argon2id m = 19 MiB, t = 2, p = 1, older
hashes re-hashed at sign-in, and at most PASSWORD_HASH_CONCURRENCY hashes at once per
process: an attempt that finds no free slot waits, then gets a 503 "try again" page."""

import threading

import pytest
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    get_hasher,
    identify_hasher,
    make_password,
)
from django.test import Client

from accounts.hashers import PortalArgon2PasswordHasher, hashing_slot
from accounts.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(host: str, email: str, password: str = TEST_PASSWORD):
    return Client(HTTP_HOST=host).post(
        "/accounts/login/", {"username": email, "password": password}
    )


def test_new_passwords_get_owasps_argon2id_parameters():
    hasher = get_hasher()
    assert isinstance(hasher, PortalArgon2PasswordHasher)
    assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (19456, 2, 1)
    encoded = make_password("a long enough passphrase 4711")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert not hasher.must_update(encoded)


def test_a_hash_with_djangos_old_parameters_is_rehashed_at_the_next_sign_in(tenant):
    old = make_password(TEST_PASSWORD, hasher=Argon2PasswordHasher())
    assert "$m=102400,t=2,p=8$" in old
    User.objects.filter(pk=tenant.staff.pk).update(password=old)

    assert sign_in(tenant.host, tenant.staff.email).status_code == 302
    tenant.staff.refresh_from_db()
    assert tenant.staff.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    # And the new hash signs in.
    assert sign_in(tenant.host, tenant.staff.email).status_code == 302


def test_with_every_slot_taken_a_sign_in_gets_a_try_again_page_not_a_crash(tenant, settings):
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.2
    with hashing_slot():  # another sign-in of this process is hashing
        busy = sign_in(tenant.host, tenant.staff.email)
        unknown = sign_in(tenant.host, "nobody-here@alpha.test")
    for response in (busy, unknown):  # the same answer whether or not the account exists
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        body = response.content.decode()
        assert "Too busy just now" in body
        assert "try again" in body
        assert "_auth_user_id" not in response.client.session
    # Once the slot is free again the same person signs in.
    assert sign_in(tenant.host, tenant.staff.email).status_code == 302


def test_checking_an_argon2_password_takes_a_slot_too(tenant, settings):
    # Hashers are found by algorithm name: every "argon2" hash must be verified by the
    # portal's hasher, whatever its parameters, or a verify would escape the cap.
    old = make_password(TEST_PASSWORD, hasher=Argon2PasswordHasher())
    assert isinstance(identify_hasher(old), PortalArgon2PasswordHasher)
    User.objects.filter(pk=tenant.staff.pk).update(password=make_password(TEST_PASSWORD))
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 0.2
    with hashing_slot():
        assert sign_in(tenant.host, tenant.staff.email).status_code == 503
        assert sign_in(tenant.host, tenant.staff.email, "a wrong password").status_code == 503


def test_an_attempt_waits_briefly_for_a_slot_to_free_up(tenant, settings):
    settings.PASSWORD_HASH_CONCURRENCY = 1
    settings.PASSWORD_HASH_WAIT_SECONDS = 10
    taken, release = threading.Event(), threading.Event()

    def other_sign_in() -> None:
        with hashing_slot():
            taken.set()
            release.wait(5)

    other = threading.Thread(target=other_sign_in)
    other.start()
    assert taken.wait(5)
    threading.Timer(0.3, release.set).start()
    try:
        response = sign_in(tenant.host, tenant.staff.email)
    finally:
        release.set()
        other.join()
    assert response.status_code == 302


def test_the_cap_bounds_hashes_in_flight(settings, monkeypatch):
    settings.PASSWORD_HASH_CONCURRENCY = 2
    settings.PASSWORD_HASH_WAIT_SECONDS = 30
    hasher = PortalArgon2PasswordHasher()
    in_flight, most = [0], [0]
    lock = threading.Lock()
    original = Argon2PasswordHasher.encode

    def counted(self, password, salt):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return original(self, password, salt)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(Argon2PasswordHasher, "encode", counted)
    threads = [
        threading.Thread(target=hasher.encode, args=("pass phrase", hasher.salt()))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2
