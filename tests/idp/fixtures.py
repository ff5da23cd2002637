"""Pytest fixtures for the local identity providers (a pytest plugin module).

Load with `pytest_plugins = ["tests.idp.fixtures"]` in the top-level tests/conftest.py;
tests/idp/conftest.py registers this module under the same name when that line is absent,
so the fixtures exist exactly once either way.

Services policy: when a provider cannot run because a binary or package is missing, the
fixture fails if REQUIRE_SERVICES=1 and skips otherwise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import NoReturn

import pytest

from tests.idp._process import ServiceUnavailable
from tests.idp.oidc_provider import (
    OidcProvider,
    oidc_provider_unavailable_reason,
    start_oidc_provider,
)
from tests.idp.saml import TestSamlIdP
from tests.idp.simplesamlphp import (
    SimpleSamlPhp,
    simplesamlphp_unavailable_reason,
    start_simplesamlphp,
)
from tests.idp.slapd import SlapdServer, slapd_unavailable_reason, start_slapd

__all__ = [
    "ldap_directory",
    "oidc_provider_factory",
    "saml_idp",
    "seeded_afterwards",
    "simplesamlphp",
    "slapd",
]


def service_unavailable(reason: str) -> NoReturn:
    """Fail (REQUIRE_SERVICES=1) or skip the current test because a service cannot run."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A seeded OpenLDAP server shared by the whole session (see tests/idp/slapd.py)."""
    reason = slapd_unavailable_reason()
    if reason:
        service_unavailable(f"OpenLDAP cannot run: {reason}")
    try:
        server = start_slapd(tmp_path_factory.mktemp("slapd"))
    except ServiceUnavailable as exc:
        service_unavailable(f"OpenLDAP cannot run: {exc}")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def seeded_afterwards(server: SlapdServer) -> Iterator[SlapdServer]:
    """``server`` for a block, put back to its seeded state when the block ends, however it
    ends (entries added under ou=people / ou=groups removed, seeded users, passwords,
    groups restored)."""
    try:
        yield server
    finally:
        server.reset()


@pytest.fixture
def ldap_directory(slapd: SlapdServer) -> Iterator[SlapdServer]:
    """The session's slapd, put back to its seeded state after the test
    (``seeded_afterwards``)."""
    with seeded_afterwards(slapd) as directory:
        yield directory


@pytest.fixture
def oidc_provider_factory() -> Iterator[Callable[..., OidcProvider]]:
    """`factory(redirect_uris=[...], accounts=None, client_id="portal-test",
    client_secret=<random>, ...)` starts an OpenID Connect provider (see
    tests/idp/oidc_provider.py); all are stopped when the test ends."""
    reason = oidc_provider_unavailable_reason()
    if reason:
        service_unavailable(f"the OpenID Connect provider cannot run: {reason}")
    with contextlib.ExitStack() as stack:

        def factory(**kwargs) -> OidcProvider:
            return stack.enter_context(start_oidc_provider(**kwargs))

        yield factory


@pytest.fixture(scope="session")
def saml_idp() -> TestSamlIdP:
    """A SAML IdP with the default entity id and SSO URL and its own signing key."""
    return TestSamlIdP()


@pytest.fixture(scope="session")
def simplesamlphp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleSamlPhp]:
    """Debian's SimpleSAMLphp as a SAML IdP on loopback, shared by the session (see
    tests/idp/simplesamlphp.py); each test registers its own SP with ``trust_sp``."""
    reason = simplesamlphp_unavailable_reason()
    if reason:
        service_unavailable(f"SimpleSAMLphp cannot run: {reason}")
    try:
        idp = start_simplesamlphp(tmp_path_factory.mktemp("simplesamlphp"))
    except ServiceUnavailable as exc:
        service_unavailable(f"SimpleSAMLphp cannot run: {exc}")
    try:
        yield idp
    finally:
        idp.stop()
