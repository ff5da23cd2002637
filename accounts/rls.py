"""Row-level security for tenant-owned tables, as migration operations.

Every table with an ``agency_id`` (every TenantOwned model) gets:
- ENABLE and FORCE ROW LEVEL SECURITY (FORCE binds the table owner too);
- one policy: a row is visible, insertable and updatable only when its agency_id equals the
  ``app.agency_id`` setting of the current transaction. With no setting, nothing matches.
"""

from django.db import migrations

CURRENT_AGENCY_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION portal_current_agency() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('app.agency_id', true), '')::bigint
$$;
"""


def enable_tenant_rls(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        sql=[
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (agency_id = portal_current_agency()) "
            "WITH CHECK (agency_id = portal_current_agency())",
        ],
        reverse_sql=[
            f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ],
    )
