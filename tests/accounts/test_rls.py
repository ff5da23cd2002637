"""Row-level security is the backstop: a query that forgot its tenant finds nothing."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from accounts.checks import check_app_database_role, role_problems
from accounts.models import Membership, TenantOwned
from accounts.tenancy import agency_context, current_db_tenant, set_db_tenant
from requests_portal.models import Department
from tests.db_helpers import owner_connection

pytestmark = pytest.mark.django_db


# Tables of already-public data that any context may read (their writes are still bound to
# the agency); see requests_portal.models.PublicSearchEntry.
PUBLIC_READ_TABLES = {"requests_portal_publicsearchentry"}


def tenant_tables() -> list[str]:
    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.abstract
    )


def fetch_all(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def test_every_tenant_model_table_has_forced_rls_and_an_agency_policy():
    tables = tenant_tables()
    assert {"accounts_membership", "requests_portal_department"} <= set(tables)
    for table in tables:
        (enabled, forced), *_ = fetch_all(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s",
            [table],
        )
        assert enabled and forced, f"{table} lacks ENABLE/FORCE ROW LEVEL SECURITY"
        policies = fetch_all(
            "SELECT qual, with_check FROM pg_policies WHERE tablename = %s", [table]
        )
        assert policies, f"{table} has no row-level-security policy"
        assert any("portal_current_agency()" in (qual or "") for qual, _ in policies)
        assert any("portal_current_agency()" in (check or "") for _, check in policies)


def test_every_table_with_an_agency_column_is_under_forced_rls():
    tables = fetch_all(
        """
        SELECT c.table_name, k.relforcerowsecurity
        FROM information_schema.columns c JOIN pg_class k ON k.relname = c.table_name
        WHERE c.table_schema = 'public' AND c.column_name = 'agency_id'
        """
    )
    assert tables
    unprotected = [name for name, forced in tables if not forced]
    assert unprotected == []


def test_tenant_tables_have_a_not_null_agency_first_in_an_index():
    for table in tenant_tables():
        ((nullable,),) = fetch_all(
            "SELECT is_nullable FROM information_schema.columns "
            "WHERE table_name = %s AND column_name = 'agency_id'",
            [table],
        )
        assert nullable == "NO", table
        indexes = [
            row[0]
            for row in fetch_all("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        ]
        assert any("(agency_id" in definition for definition in indexes), table


def test_the_app_role_is_bound_by_rls():
    ((is_super, bypass, owned),) = fetch_all(
        """
        SELECT rolsuper, rolbypassrls,
          (SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tableowner=current_user)
        FROM pg_roles WHERE rolname = current_user
        """
    )
    assert (is_super, bypass, owned) == (False, False, 0)
    assert check_app_database_role(None, databases=["default"]) == []


def test_role_check_reports_a_process_connected_as_the_table_owner():
    # The check must be able to fail: as the owner it finds the tables it owns.
    with owner_connection() as conn:
        errors = role_problems(conn.cursor())
    assert [e.id for e in errors] == ["accounts.E002"]


def test_raw_sql_without_tenant_context_reads_no_tenant_rows(tenant, other_tenant):
    with agency_context(tenant.agency):
        assert fetch_all("SELECT count(*) FROM accounts_membership")[0][0] == 4
    with transaction.atomic():
        set_db_tenant(None)
        for table in set(tenant_tables()) - PUBLIC_READ_TABLES:
            assert fetch_all(f"SELECT count(*) FROM {table}")[0][0] == 0, table


def test_orm_query_that_forgot_its_tenant_finds_nothing(tenant, other_tenant):
    assert current_db_tenant() is None
    assert Membership.objects.count() == 0
    assert Department.objects.count() == 0


def test_agency_context_cannot_read_other_agency_rows(tenant, other_tenant):
    b = other_tenant.agency.pk
    with agency_context(tenant.agency):
        assert fetch_all("SELECT count(*) FROM accounts_membership WHERE agency_id = %s", [b]) == [
            (0,)
        ]
        assert Department.objects.filter(agency_id=b).count() == 0
        assert Department.objects.filter(agency=tenant.agency).count() == 1


def test_agency_context_cannot_update_or_delete_other_agency_rows(tenant, other_tenant):
    b = other_tenant.agency.pk
    with agency_context(tenant.agency), connection.cursor() as cursor:
        cursor.execute("UPDATE requests_portal_department SET name = 'x' WHERE agency_id = %s", [b])
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM accounts_membership WHERE agency_id = %s", [b])
        assert cursor.rowcount == 0
    with agency_context(other_tenant.agency):
        assert list(Department.objects.values_list("name", flat=True)) == ["Clerk"]
        assert Membership.objects.count() == 4


def test_agency_context_cannot_insert_rows_for_another_agency(tenant, other_tenant):
    b = other_tenant.agency.pk
    with agency_context(tenant.agency):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Department.objects.create(agency_id=b, name="Planted")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            # Moving one's own row into another agency is refused too (WITH CHECK).
            Department.objects.filter(agency=tenant.agency).update(agency_id=b)
    with agency_context(other_tenant.agency):
        assert not Department.objects.filter(name="Planted").exists()
        assert Department.objects.count() == 1


def test_tenant_context_ends_with_its_block(tenant):
    with agency_context(tenant.agency):
        assert current_db_tenant() == tenant.agency.pk
    assert current_db_tenant() is None


@pytest.mark.django_db(transaction=False)
def test_setting_the_context_outside_a_transaction_is_refused(monkeypatch):
    monkeypatch.setattr(type(connection), "in_atomic_block", False, raising=False)
    with pytest.raises(RuntimeError, match="inside a transaction"):
        set_db_tenant(1)


def test_only_the_listed_public_tables_are_readable_without_a_tenant():
    readable = {
        table
        for (table,) in fetch_all(
            "SELECT tablename FROM pg_policies WHERE cmd = 'SELECT' AND qual = 'true'"
        )
    }
    assert readable == PUBLIC_READ_TABLES
