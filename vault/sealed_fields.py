"""The columns sealed with the master keyring (vault.keyring), as each app
declares them in its ``ready()``, so ``manage.py reseal_secrets`` re-seals every one after a
master-key rotation. A sealed column nobody declared would stop opening on the day the old
key is dropped: tests/vault/test_sealed_fields.py fails when a model has one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models


@dataclass(frozen=True)
class SealedField:
    model: type[models.Model]
    field: str
    # The associated data the value was sealed with, from its row (vault.keyring binds a
    # sealed value to what it belongs to).
    aad: Callable[[Any], str]
    label: str
    # Rows belong to an agency (read in its tenant context), or to a person across agencies.
    per_agency: bool = True


_FIELDS: list[SealedField] = []


def register_sealed_field(
    model: type[models.Model],
    field: str,
    aad: Callable[[Any], str],
    label: str,
    *,
    per_agency: bool = True,
) -> None:
    if any(f.model is model and f.field == field for f in _FIELDS):
        return  # an app's ready() may run twice under the test runner
    _FIELDS.append(SealedField(model, field, aad, label, per_agency))


def sealed_fields() -> tuple[SealedField, ...]:
    return tuple(_FIELDS)
