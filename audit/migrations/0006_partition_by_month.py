"""The audit log becomes a table partitioned by month of ``created_at`` (issue 11, retention).

One year stays online in monthly partitions; older months are exported to storage as
encrypted archives and then detached and dropped (audit/retention.py). This migration:

1. renames the old table (and its identity sequence) out of the way;
2. creates ``audit_auditevent`` as ``PARTITION BY RANGE (created_at)`` with the old table's
   columns, defaults and identity (``LIKE ... INCLUDING ...``: columns added by any earlier
   migration, whichever branch it came from, come along);
3. creates ``audit_ensure_month_partition(date)``, the one way a partition is made: with
   the append-only comment and TRUNCATE trigger, forced row-level security and the tenant
   policy, and the parent's SELECT grants (rows arrive through the parent only). It is SECURITY DEFINER so the beat task,
   connected as the app role, can make next month's partition without owning any table;
4. makes a partition for every month that holds events, up to three months ahead, copies
   every row (ids and hashes unchanged), and moves the identity on past the old one;
5. drops the old table and recreates its indexes (every non-unique index, by its own
   definition, so indexes added by other migrations survive) on the partitioned table.
   Unique keys must hold the partition key: the primary key becomes (id, created_at) and
   the hash is unique with created_at;
6. puts the append-only triggers and row-level security back on the parent.

``audit_drop_archived_partition(date)`` (also SECURITY DEFINER) detaches and drops one
month, and refuses unless the month ended more than twelve months ago, is the oldest one
online, and every chain in it has a verified archive whose counts and chain ends match.
"""

from django.db import migrations, models

TABLE_COMMENT = "append-only: UPDATE, DELETE and TRUNCATE are refused"

POLICY_USING = """(
    agency_id = portal_current_agency()
    OR (agency_id IS NULL AND current_setting('app.platform', true) = 'on')
)"""

QUOTED_POLICY = POLICY_USING.replace("'", "''")  # inside a string literal of the function

ENSURE_FUNCTION = f"""
CREATE FUNCTION audit_ensure_month_partition(month_start date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    first_day date := date_trunc('month', month_start)::date;
    part text := format('audit_auditevent_y%sm%s', to_char(first_day, 'YYYY'),
                        to_char(first_day, 'MM'));
    grant_row record;
BEGIN
    -- Two makers racing (beat task and migrate) wait for each other.
    PERFORM pg_advisory_xact_lock(1096107081, 1);
    IF to_regclass(part) IS NOT NULL THEN
        RETURN part;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF audit_auditevent FOR VALUES FROM (%L) TO (%L)',
        part,
        (first_day::timestamp AT TIME ZONE 'UTC'),
        ((first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC')
    );
    EXECUTE format('COMMENT ON TABLE %I IS %L', part, '{TABLE_COMMENT}');
    -- Row triggers are cloned from the parent; TRUNCATE (a statement trigger) is not.
    EXECUTE format(
        'CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON %I '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', part);
    -- A partition queried by its own name is bound by its own policies, not the parent's.
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %I USING {QUOTED_POLICY} WITH CHECK {QUOTED_POLICY}',
        part);
    -- Whoever may read the log may read the partition by name; nobody but the owner may
    -- write into it by name (rows reach it through the parent, under the parent's grants
    -- and policies: an insert by name could forge ids).
    FOR grant_row IN
        SELECT DISTINCT a.grantee::regrole::text AS role
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'audit_auditevent'::regclass AND a.grantee <> 0
          AND a.grantee <> c.relowner AND a.privilege_type = 'SELECT'
    LOOP
        EXECUTE format('GRANT SELECT ON %I TO %s', part, grant_row.role);
    END LOOP;
    RETURN part;
END
$fn$
"""  # noqa: S608 (built from this module's constants only)

DROP_FUNCTION = """
CREATE FUNCTION audit_drop_archived_partition(month_start date) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    first_day date := date_trunc('month', month_start)::date;
    part text := format('audit_auditevent_y%sm%s', to_char(first_day, 'YYYY'),
                        to_char(first_day, 'MM'));
    saved_agency text := current_setting('app.agency_id', true);
    saved_platform text := current_setting('app.platform', true);
    oldest text;
    chain record;
    archived integer;
BEGIN
    IF (first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC'
            > now() - interval '12 months' THEN
        RAISE EXCEPTION 'audit month % is inside the year kept online', first_day;
    END IF;
    SELECT c.relname INTO oldest
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_auditevent'::regclass
    ORDER BY c.relname LIMIT 1;
    IF oldest IS DISTINCT FROM part THEN
        RAISE EXCEPTION 'audit month % is not the oldest partition online (%)', first_day, oldest;
    END IF;
    EXECUTE format('ALTER TABLE audit_auditevent DETACH PARTITION %I', part);
    -- Detached, it is read here as its owner, every chain at once.
    EXECUTE format('ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', part);
    FOR chain IN EXECUTE format(
        'SELECT agency_id, count(*) AS events, min(id) AS first_id, max(id) AS last_id '
        'FROM %I GROUP BY agency_id', part)
    LOOP
        PERFORM set_config('app.agency_id', coalesce(chain.agency_id::text, ''), true);
        PERFORM set_config('app.platform', CASE WHEN chain.agency_id IS NULL
                                                THEN 'on' ELSE 'off' END, true);
        SELECT count(*) INTO archived FROM audit_auditarchive a
        WHERE a.agency_id IS NOT DISTINCT FROM chain.agency_id AND a.month = first_day
          AND a.verified_at IS NOT NULL AND a.events = chain.events
          AND a.first_id = chain.first_id AND a.last_id = chain.last_id;
        IF archived = 0 THEN
            RAISE EXCEPTION 'audit month %: chain % has no verified archive matching it',
                first_day, coalesce(chain.agency_id::text, 'platform');
        END IF;
    END LOOP;
    PERFORM set_config('app.agency_id', coalesce(saved_agency, ''), true);
    PERFORM set_config('app.platform', coalesce(saved_platform, ''), true);
    EXECUTE format('DROP TABLE %I', part);
    RETURN part;
END
$fn$
"""

CONVERT = f"""
DO $do$
DECLARE
    seq text := pg_get_serial_sequence('audit_auditevent', 'id');
    last_id bigint;
    index_row record;
    month date;
BEGIN
    ALTER TABLE audit_auditevent RENAME TO audit_auditevent_unpartitioned;
    EXECUTE format('ALTER SEQUENCE %s RENAME TO audit_auditevent_unpartitioned_id_seq', seq);
    -- Plain indexes are recreated later by their own definitions (whichever migrations
    -- added them); every old index is renamed out of the way so the new ones keep names.
    CREATE TEMP TABLE audit_index_defs ON COMMIT DROP AS
        SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'audit_auditevent_unpartitioned'::regclass
          AND NOT i.indisunique AND NOT i.indisprimary;
    FOR index_row IN
        SELECT i.indexrelid::regclass::text AS name, i.indexrelid AS oid FROM pg_index i
        WHERE i.indrelid = 'audit_auditevent_unpartitioned'::regclass
    LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', index_row.name,
                       'audit_unpartitioned_' || index_row.oid);
    END LOOP;
    -- The owner copies every agency's rows: FORCE would hide them from it.
    ALTER TABLE audit_auditevent_unpartitioned NO FORCE ROW LEVEL SECURITY;

    CREATE TABLE audit_auditevent (
        LIKE audit_auditevent_unpartitioned
        INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE
        INCLUDING COMMENTS INCLUDING COMPRESSION
    ) PARTITION BY RANGE (created_at);
    COMMENT ON TABLE audit_auditevent IS '{TABLE_COMMENT}';
    ALTER TABLE audit_auditevent ADD CONSTRAINT audit_auditevent_pkey
        PRIMARY KEY (id, created_at);
    ALTER TABLE audit_auditevent ADD CONSTRAINT audit_hash_unique UNIQUE (hash, created_at);
    -- Grants the old table had (the app role's) carry over before partitions are made.
    FOR index_row IN
        SELECT DISTINCT a.grantee::regrole::text AS role, a.privilege_type AS privilege
        FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = 'audit_auditevent_unpartitioned'::regclass AND a.grantee <> 0
          AND a.grantee <> c.relowner AND a.privilege_type IN ('SELECT', 'INSERT')
    LOOP
        EXECUTE format('GRANT %s ON audit_auditevent TO %s', index_row.privilege, index_row.role);
    END LOOP;

    FOR month IN
        SELECT generate_series(
            date_trunc('month', least(
                coalesce((SELECT min(created_at) FROM audit_auditevent_unpartitioned), now()),
                now()) AT TIME ZONE 'UTC'),
            date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
            interval '1 month')::date
    LOOP
        PERFORM audit_ensure_month_partition(month);
    END LOOP;

    INSERT INTO audit_auditevent SELECT * FROM audit_auditevent_unpartitioned;
    SELECT greatest(
        (SELECT max(id) FROM audit_auditevent_unpartitioned),
        (SELECT last_value FROM audit_auditevent_unpartitioned_id_seq)
    ) INTO last_id;
    PERFORM setval(pg_get_serial_sequence('audit_auditevent', 'id'), last_id);

    DROP TABLE audit_auditevent_unpartitioned;
    FOR index_row IN SELECT * FROM audit_index_defs LOOP
        EXECUTE replace(index_row.definition, ' ON public.audit_auditevent_unpartitioned ',
                        ' ON public.audit_auditevent ');
    END LOOP;
    DROP TABLE audit_index_defs;
END
$do$
"""  # noqa: S608 (built from this module's constants only)

PARENT_GUARDS = [
    "CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "ALTER TABLE audit_auditevent ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE audit_auditevent FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_isolation ON audit_auditevent USING {POLICY_USING} "
    f"WITH CHECK {POLICY_USING}",
    # Only the app role (granted after migrate, accounts/db_roles.py) may call them.
    "REVOKE EXECUTE ON FUNCTION audit_ensure_month_partition(date) FROM PUBLIC",
    "REVOKE EXECUTE ON FUNCTION audit_drop_archived_partition(date) FROM PUBLIC",
    "COMMENT ON FUNCTION audit_ensure_month_partition(date) IS 'app-callable: makes a month'",
    "COMMENT ON FUNCTION audit_drop_archived_partition(date) IS "
    "'app-callable: drops an archived month'",
]


class Migration(migrations.Migration):
    # One transaction: a failure leaves the old table exactly as it was.
    atomic = True

    dependencies = [
        ("audit", "0005_auditarchive"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(ENSURE_FUNCTION),
                migrations.RunSQL(DROP_FUNCTION),
                migrations.RunSQL(CONVERT),
                migrations.RunSQL(PARENT_GUARDS),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="hash",
                    field=models.CharField(max_length=64),
                ),
                migrations.AddConstraint(
                    model_name="auditevent",
                    constraint=models.UniqueConstraint(
                        fields=("hash", "created_at"), name="audit_hash_unique"
                    ),
                ),
            ],
        ),
    ]
