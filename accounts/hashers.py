"""The password hasher: Argon2id sized for a small web dyno, with a cap on how many hashes
one process runs at once.

Parameters: OWASP's Password Storage Cheat Sheet lists equally strong Argon2id settings that
trade memory for passes; the portal uses its first, m = 19 MiB (19,456 KiB), t = 2, p = 1.
Each hash in flight holds its m of memory, so one process with ``PASSWORD_HASH_CONCURRENCY``
hashes at once never holds more than that many times 19 MiB for them (Django's default,
m = 100 MiB with 8 lanes, needed 2 GB for 20 sign-ins at once; a basic dyno has 512 MB).
Hashes stored with other parameters (Django's, or PBKDF2) are re-hashed with these at the
person's next successful sign-in (Django's ``must_update``).

The cap: every hash and every verify takes one of the process's slots. When none frees up
within ``PASSWORD_HASH_WAIT_SECONDS``, :class:`HashingBusy` is raised; the middleware
(``accounts.middleware.HashingBusyMiddleware``) answers it with a "too busy, try again in a
moment" page, status 503 with Retry-After, and the request's transaction is rolled back.
A wrong password and an unknown email still cost the same: both take a slot and one hash.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

logger = logging.getLogger("portal.passwords")

# OWASP Password Storage Cheat Sheet, Argon2id: "m=19456 (19 MiB), t=2, p=1".
MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


class HashingBusy(Exception):
    """Every hashing slot of this process stayed taken for the whole wait."""


class _Slots:
    """A counting semaphore sized from the settings when first used (and again when they
    change, so a test or an operator's override takes effect)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = 0
        self._semaphore = threading.BoundedSemaphore(1)

    def semaphore(self) -> threading.BoundedSemaphore:
        size = max(1, int(settings.PASSWORD_HASH_CONCURRENCY))
        with self._lock:
            if size != self._size:
                self._size, self._semaphore = size, threading.BoundedSemaphore(size)
            return self._semaphore


_SLOTS = _Slots()


@contextlib.contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the process's hashing slots, waiting up to the setting's seconds."""
    semaphore = _SLOTS.semaphore()
    if not semaphore.acquire(timeout=float(settings.PASSWORD_HASH_WAIT_SECONDS)):
        logger.warning(
            "password hashing busy: %s hashes in flight for %s s; answered 503",
            settings.PASSWORD_HASH_CONCURRENCY,
            settings.PASSWORD_HASH_WAIT_SECONDS,
        )
        raise HashingBusy
    try:
        yield
    finally:
        semaphore.release()


class PortalArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher (same "argon2" algorithm name and format, so stored hashes
    stay readable) with OWASP's m = 19 MiB, t = 2, p = 1 and the per-process cap."""

    memory_cost = MEMORY_COST_KIB
    time_cost = TIME_COST
    parallelism = PARALLELISM

    def encode(self, password: str, salt: str) -> str:
        with hashing_slot():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hashing_slot():
            return super().verify(password, encoded)
