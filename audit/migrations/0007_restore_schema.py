"""A schema for audit archives restored for an investigation (``audit_restore_archive``).

A restored month is a table ``audit_restore.agency_<id>_<yyyy>_<mm>`` (``platform_...`` for
the platform chain) made by the owner through ``audit_restore_open``: append-only (the same
triggers), under the audit log's row-level security, and loaded by the app role, which then
loses INSERT on it (``audit_restore_close``): from then on it can only SELECT.
``audit_restore_drop`` removes one when the investigation ends.
"""

from django.db import migrations

POLICY = """(
    agency_id = portal_current_agency()
    OR (agency_id IS NULL AND current_setting('app.platform', true) = 'on')
)""".replace("'", "''")

NAME = """format('%s_%s', coalesce('agency_' || agency, 'platform'),
                  to_char(date_trunc('month', month_start), 'YYYY_MM'))"""

OPEN = f"""
CREATE FUNCTION audit_restore_open(agency bigint, month_start date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    name text := {NAME};
    grant_row record;
BEGIN
    IF to_regclass(format('audit_restore.%I', name)) IS NOT NULL THEN
        RAISE EXCEPTION 'audit archive % is already restored (audit_restore.%)', name, name;
    END IF;
    EXECUTE format('CREATE TABLE audit_restore.%I (LIKE public.audit_auditevent '
                   'INCLUDING DEFAULTS INCLUDING COMMENTS)', name);
    EXECUTE format('ALTER TABLE audit_restore.%I ALTER COLUMN id DROP IDENTITY IF EXISTS', name);
    EXECUTE format('ALTER TABLE audit_restore.%I ADD PRIMARY KEY (id)', name);
    EXECUTE format('COMMENT ON TABLE audit_restore.%I IS %L', name,
                   'append-only: restored audit archive, read-only once loaded');
    EXECUTE format('CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON '
                   'audit_restore.%I FOR EACH ROW EXECUTE FUNCTION public.audit_refuse_change()',
                   name);
    EXECUTE format('CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_restore.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION public.audit_refuse_change()', name);
    EXECUTE format('ALTER TABLE audit_restore.%I ENABLE ROW LEVEL SECURITY', name);
    EXECUTE format('ALTER TABLE audit_restore.%I FORCE ROW LEVEL SECURITY', name);
    EXECUTE format('CREATE POLICY tenant_isolation ON audit_restore.%I '
                   'USING {POLICY} WITH CHECK {POLICY}', name);
    FOR grant_row IN
        SELECT DISTINCT a.grantee::regrole::text AS role
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'public.audit_auditevent'::regclass AND a.grantee <> 0
          AND a.grantee <> c.relowner AND a.privilege_type = 'INSERT'
    LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA audit_restore TO %s', grant_row.role);
        EXECUTE format('GRANT SELECT, INSERT ON audit_restore.%I TO %s', name, grant_row.role);
    END LOOP;
    RETURN 'audit_restore.' || name;
END
$fn$
"""  # noqa: S608 (built from this module's constants only)

CLOSE = f"""
CREATE FUNCTION audit_restore_close(agency bigint, month_start date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    name text := {NAME};
    grant_row record;
BEGIN
    FOR grant_row IN
        SELECT DISTINCT a.grantee::regrole::text AS role
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = format('audit_restore.%I', name)::regclass AND a.grantee <> 0
          AND a.grantee <> c.relowner
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_restore.%I FROM %s',
                       name, grant_row.role);
    END LOOP;
    RETURN 'audit_restore.' || name;
END
$fn$
"""  # noqa: S608 (built from this module's constants only)

DROP = f"""
CREATE FUNCTION audit_restore_drop(agency bigint, month_start date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    name text := {NAME};
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS audit_restore.%I', name);
    RETURN 'audit_restore.' || name;
END
$fn$
"""

FUNCTIONS = ("audit_restore_open", "audit_restore_close", "audit_restore_drop")


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_partition_by_month")]

    operations = [
        migrations.RunSQL(
            sql=[
                "CREATE SCHEMA audit_restore",
                OPEN,
                CLOSE,
                DROP,
                *(f"REVOKE EXECUTE ON FUNCTION {f}(bigint, date) FROM PUBLIC" for f in FUNCTIONS),
                *(
                    f"COMMENT ON FUNCTION {f}(bigint, date) IS 'app-callable: restored archives'"
                    for f in FUNCTIONS
                ),
            ],
            reverse_sql=[
                *(f"DROP FUNCTION IF EXISTS {f}(bigint, date)" for f in FUNCTIONS),
                "DROP SCHEMA IF EXISTS audit_restore CASCADE",
            ],
        ),
    ]
