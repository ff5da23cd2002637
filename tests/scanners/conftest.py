"""Fixtures of the scanner tests (tests/scanners/world.py describes the target)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.scanners.world import RATE_SETTINGS, UNLIMITED, ScanTarget, scan_target


@pytest.fixture
def target(django_db_setup, django_db_blocker, settings) -> Iterator[ScanTarget]:
    """Two agencies committed and the portal serving them on 127.0.0.1 (settings are global,
    so the server thread runs under the raised rate limits too)."""
    for name in RATE_SETTINGS:
        setattr(settings, name, UNLIMITED)
    with django_db_blocker.unblock(), scan_target() as served:
        yield served
