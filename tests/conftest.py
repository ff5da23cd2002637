"""Test fixtures.

The test database is created and migrated as the owner role, exactly as the release phase
does; every test then runs as the app role, so row-level security binds the tests just as it
binds the web process. Fixtures follow healthchecks' three personas, per agency: an admin,
a staff member and a requester, plus the outsider who belongs to the other agency.
"""

import os
import time
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Agency, Role, User
from accounts.tenancy import agency_context
from tests.db_helpers import connected_as_owner
from tests.factories import AgencyFactory, DepartmentFactory, MembershipFactory, UserFactory

# Real identity providers for the SSO tests (slapd, a local OpenID Connect provider, a SAML
# IdP that signs with test keys): tests/idp/. The run's logs, captured as production writes
# them and scanned for passwords, tokens and session keys when the run ends:
# tests/log_capture.py.
# The local Stripe of the billing tests: tests/stripe_server/.
pytest_plugins = ["tests.idp.fixtures", "tests.log_capture", "tests.stripe_server.fixtures"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and agencies' settings live in the cache, and each process
    remembers hosts' agencies: each test starts with none (a rolled-back test's agency must
    not answer for the next test's host)."""
    from django.core.cache import cache

    from accounts import home_page, host_cache
    from config import views

    cache.clear()
    host_cache._clear_now()
    home_page.clear()
    views.forget_partition_check()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a page a test asked for in Spanish leaves
    Spanish active on the thread (LocaleMiddleware activates it and nothing resets it), and
    a request filed through the service afterwards would take it as its language."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _documents_in_temporary_folders(settings, tmp_path_factory):
    """Document ciphertext and escrow keys of tests never land in the developer's .local."""
    from documents import keys
    from vault import storage

    root = tmp_path_factory.mktemp("documents")
    settings.DOCUMENTS_LOCAL_ROOT = root / "blobs"
    settings.KEYSTORE_LOCAL_ROOT = root / "keystore"
    settings.DOCUMENTS_S3_BUCKET = ""
    settings.KEYSTORE_S3_BUCKET = ""
    storage.reset_cache()
    keys.forget_cached_keys()
    yield
    storage.reset_cache()
    keys.forget_cached_keys()


@pytest.fixture(autouse=True)
def _seals_in_a_temporary_folder(settings, tmp_path_factory):
    """Audit seals of tests never land in the developer's .local (nor in a bucket)."""
    from audit.seals import store

    settings.AUDIT_SEAL_LOCAL_ROOT = tmp_path_factory.mktemp("seals")
    settings.AUDIT_SEAL_S3_BUCKET = ""
    store.reset_cache()
    yield
    store.reset_cache()


@pytest.fixture(autouse=True)
def _no_breach_api_calls(settings):
    """No test reaches the internet: the breached-password check is off unless a test
    points it at the local range server (tests/breach_api.py)."""
    settings.PASSWORD_BREACH_API_URL = ""


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    from django.test.utils import setup_databases, teardown_databases

    # One test database per process: concurrent runs on one machine never collide.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"test_portal_{os.getpid()}"
    with django_db_blocker.unblock(), connected_as_owner():
        db_cfg = setup_databases(
            verbosity=request.config.option.verbose,
            interactive=False,
            aliases={"default"},
            serialized_aliases=set(),
        )
    yield
    with django_db_blocker.unblock(), connected_as_owner():
        teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@dataclass
class Tenant:
    agency: Agency
    admin: User
    staff: User
    publisher: User
    department_admin: User
    requester: User
    host: str


def _make_tenant(slug: str) -> Tenant:
    agency = AgencyFactory(slug=slug, name=f"{slug.title()} Test Agency")
    people = {}
    with agency_context(agency):
        for role in (Role.ADMIN, Role.STAFF, Role.PUBLISHER, Role.DEPARTMENT_ADMIN):
            user = UserFactory(email=f"{role}@{slug}.test")
            MembershipFactory(agency=agency, user=user, role=role)
            people[role] = user
        DepartmentFactory(agency=agency, name="Clerk")
    return Tenant(
        agency=agency,
        admin=people[Role.ADMIN],
        staff=people[Role.STAFF],
        publisher=people[Role.PUBLISHER],
        department_admin=people[Role.DEPARTMENT_ADMIN],
        requester=UserFactory(email=f"requester@{slug}.test"),
        host=f"{slug}.{settings.PORTAL_BASE_DOMAIN}",
    )


@pytest.fixture
def tenant(db) -> Tenant:
    """Agency A with its people."""
    return _make_tenant("alpha")


@pytest.fixture
def other_tenant(db) -> Tenant:
    """Agency B, whose people are outsiders to agency A."""
    return _make_tenant("bravo")


@pytest.fixture
def outsider(other_tenant) -> User:
    """The admin of agency B: should have no access to anything of agency A."""
    return other_tenant.admin


def mark_fully_signed_in(client) -> None:
    """What a real sign-in leaves in the session: the second factor passed and a recent
    authentication. Tests about two-factor and re-authentication build clients without it."""
    from accounts.signin import flow, mfa

    session = client.session
    session[mfa.SESSION_MFA_METHOD] = "totp"
    session[mfa.SESSION_MFA_AT] = int(time.time())
    session[flow.REAUTH_AT] = int(time.time())
    session.save()


@pytest.fixture
def client_for():
    """A test client signed in as ``user``, talking to ``host``, with two-factor passed (so
    tests of other features are not redirected to set it up)."""
    from django.test import Client

    def make(user: User | None, host: str, *, second_factor: bool = True) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
            if second_factor:
                mark_fully_signed_in(client)
        return client

    return make


def pytest_terminal_summary(terminalreporter):
    """The structure test's report: the largest product modules, so growth is seen early
    (tests/test_structure.py fails past its limit)."""
    from tests.structure import ROOT, largest, product_modules

    terminalreporter.section("largest modules")
    for module in largest(product_modules().values(), count=8):
        terminalreporter.write_line(f"{module.lines:5d}  {module.path.relative_to(ROOT)}")
