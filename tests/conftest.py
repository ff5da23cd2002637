"""Test fixtures.

The test database is created and migrated as the owner role, exactly as the release phase
does; every test then runs as the app role, so row-level security binds the tests just as it
binds the web process. Fixtures follow healthchecks' three personas, per agency: an admin,
a staff member and a requester, plus the outsider who belongs to the other agency.
"""

import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Agency, Role, User
from accounts.tenancy import agency_context
from tests.db_helpers import connected_as_owner
from tests.factories import AgencyFactory, DepartmentFactory, MembershipFactory, UserFactory


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


@pytest.fixture
def client_for():
    """A test client signed in as ``user``, talking to ``host``."""
    from django.test import Client

    def make(user: User | None, host: str) -> Client:
        client = Client(HTTP_HOST=host)
        if user is not None:
            client.force_login(user)
        return client

    return make
