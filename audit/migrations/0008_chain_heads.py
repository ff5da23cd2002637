"""Chain heads: one row per audit chain (its last event's id and hash, and its length), kept
by the database itself, so an append locks and reads its chain's head in one statement
instead of searching every monthly partition for the newest event.

``audit_chainhead`` (``chain`` is the agency's id, 0 for the platform chain):

- written only by two SECURITY DEFINER functions of its owner. Row-level security is on
  with a policy for reading only (the current agency's head, or the platform's in the
  platform context), so the app role (granted every table by accounts/db_roles.py) can
  read its own chain's head and can insert, change or delete none;
- ``audit_lock_chain_head(agency)`` (app-callable) locks the chain's head row (creating it,
  at genesis, for a new chain) and returns its hash and the database clock: a writer of the
  chain holds the lock until its transaction ends, so writers of one chain take turns and
  writers of different chains never wait for each other. It refuses a chain that is not
  the transaction's own (the same rule as the events' policy);
- ``audit_advance_chain_heads()``, an AFTER INSERT statement trigger on ``audit_auditevent``
  (its new rows as a transition table), moves each chain's head to its newest new event in
  the same statement as the insert. It refuses rows that do not follow one another, or
  whose first one does not follow the chain's head: a fork is refused by the database,
  whoever inserts, even without the lock.

The head is bookkeeping, not evidence: ``audit_verify`` recomputes every chain from its
events and compares the head with the end of the walk (a mismatch is reported), and the
seals (audit/seals) remain what proves the log against the people who run the database.
The head's count includes events of months already archived (as the walk's count does).
"""

from django.db import migrations

GENESIS = "repeat('0', 64)"

CONTEXT_CHECK = """
    IF agency IS NULL THEN
        IF current_setting('app.platform', true) IS DISTINCT FROM 'on' THEN
            RAISE EXCEPTION 'row-level security: the platform audit chain is written in the '
                'platform context only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF agency IS DISTINCT FROM portal_current_agency() THEN
        RAISE EXCEPTION 'row-level security: audit chain of agency % is not the current '
                'agency''s', agency
            USING ERRCODE = 'insufficient_privilege';
    END IF;
"""

TABLE = [
    """
    CREATE TABLE audit_chainhead (
        chain bigint PRIMARY KEY,
        last_id bigint NOT NULL,
        last_hash varchar(64) NOT NULL,
        events bigint NOT NULL CHECK (events >= 0)
    )
    """,
    "COMMENT ON TABLE audit_chainhead IS "
    "'each audit chain''s newest event and length; written by audit_advance_chain_heads only'",
    "ALTER TABLE audit_chainhead ENABLE ROW LEVEL SECURITY",
    # Not FORCEd: the owner's two functions below write it; every other role only reads,
    # through this policy (no policy lets anyone insert, update or delete).
    """
    CREATE POLICY chain_head_read ON audit_chainhead FOR SELECT USING (
        chain = portal_current_agency()
        OR (chain = 0 AND current_setting('app.platform', true) = 'on')
    )
    """,
]

LOCK_FUNCTION = f"""
CREATE FUNCTION audit_lock_chain_head(agency bigint)
RETURNS TABLE (head_hash text, chained_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    key bigint := coalesce(agency, 0);
BEGIN
    {CONTEXT_CHECK}
    -- FOR UPDATE waits for the chain's other writer, then reads the head it left.
    SELECT h.last_hash INTO head_hash FROM audit_chainhead h WHERE h.chain = key FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chainhead (chain, last_id, last_hash, events)
        VALUES (key, 0, {GENESIS}, 0) ON CONFLICT (chain) DO NOTHING;
        SELECT h.last_hash INTO head_hash FROM audit_chainhead h WHERE h.chain = key FOR UPDATE;
    END IF;
    -- The event's time is taken once the chain is this writer's: times follow the chain.
    chained_at := clock_timestamp();
    RETURN NEXT;
END
$fn$
"""  # noqa: S608 (built from this module's constants only)

ADVANCE_FUNCTION = f"""
CREATE FUNCTION audit_advance_chain_heads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    batch record;
BEGIN
    FOR batch IN
        SELECT e.chain, count(*) AS events, min(e.id) AS first_id, max(e.id) AS last_id,
               count(*) FILTER (WHERE e.n > 1 AND e.prev_hash IS DISTINCT FROM e.before)
                   AS unlinked,
               min(e.prev_hash) FILTER (WHERE e.n = 1) AS first_prev,
               min(e.hash) FILTER (WHERE e.n = e.total) AS last_hash
        FROM (
            SELECT coalesce(agency_id, 0) AS chain, id, prev_hash, hash,
                   lag(hash) OVER w AS before, row_number() OVER w AS n,
                   count(*) OVER (PARTITION BY coalesce(agency_id, 0)) AS total
            FROM new_events
            WINDOW w AS (PARTITION BY coalesce(agency_id, 0) ORDER BY id)
        ) e
        GROUP BY e.chain
    LOOP
        IF batch.unlinked > 0 THEN
            RAISE EXCEPTION 'audit chain %: new events that do not follow one another',
                batch.chain USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        UPDATE audit_chainhead h
        SET last_id = batch.last_id, last_hash = batch.last_hash,
            events = h.events + batch.events
        WHERE h.chain = batch.chain AND h.last_hash = batch.first_prev
          AND h.last_id < batch.first_id;
        IF NOT FOUND THEN
            IF batch.first_prev IS DISTINCT FROM {GENESIS}
                    OR EXISTS (SELECT 1 FROM audit_chainhead h WHERE h.chain = batch.chain) THEN
                RAISE EXCEPTION 'audit chain %: event % does not follow the chain''s head',
                    batch.chain, batch.first_id
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            -- A chain's first events, inserted without audit_lock_chain_head: a concurrent
            -- first insert makes this one fail on the primary key (never a fork).
            INSERT INTO audit_chainhead (chain, last_id, last_hash, events)
            VALUES (batch.chain, batch.last_id, batch.last_hash, batch.events);
        END IF;
    END LOOP;
    RETURN NULL;
END
$fn$
"""  # noqa: S608 (built from this module's constants only)

TRIGGER = [
    "CREATE TRIGGER audit_advance_chain_heads AFTER INSERT ON audit_auditevent "
    "REFERENCING NEW TABLE AS new_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_advance_chain_heads()",
    "REVOKE EXECUTE ON FUNCTION audit_lock_chain_head(bigint) FROM PUBLIC",
    "REVOKE EXECUTE ON FUNCTION audit_advance_chain_heads() FROM PUBLIC",
    "COMMENT ON FUNCTION audit_lock_chain_head(bigint) IS "
    "'app-callable: locks and reads one audit chain''s head'",
]

# The heads of the chains already written: the newest online event of each chain, and its
# length counting the months already archived before the oldest online event (as
# audit.chain.verify_chain counts). Read by the owner, every chain at once.
BACKFILL = """
DO $do$
BEGIN
    ALTER TABLE audit_auditevent NO FORCE ROW LEVEL SECURITY;
    ALTER TABLE audit_auditarchive NO FORCE ROW LEVEL SECURITY;
    INSERT INTO audit_chainhead (chain, last_id, last_hash, events)
    SELECT online.chain, online.last_id, newest.hash,
           online.events + coalesce((
               SELECT sum(a.events) FROM audit_auditarchive a
               WHERE coalesce(a.agency_id, 0) = online.chain
                 AND a.verified_at IS NOT NULL AND a.last_id < online.first_id), 0)
    FROM (
        SELECT coalesce(agency_id, 0) AS chain, count(*) AS events, min(id) AS first_id,
               max(id) AS last_id
        FROM audit_auditevent GROUP BY 1
    ) online
    JOIN audit_auditevent newest ON newest.id = online.last_id;
    -- Chains whose every month is archived: the newest archive ends them.
    INSERT INTO audit_chainhead (chain, last_id, last_hash, events)
    SELECT DISTINCT ON (coalesce(a.agency_id, 0)) coalesce(a.agency_id, 0), a.last_id,
           a.last_hash,
           sum(a.events) OVER (PARTITION BY coalesce(a.agency_id, 0))
    FROM audit_auditarchive a
    WHERE a.verified_at IS NOT NULL
    ORDER BY coalesce(a.agency_id, 0), a.month DESC
    ON CONFLICT (chain) DO NOTHING;
    ALTER TABLE audit_auditarchive FORCE ROW LEVEL SECURITY;
    ALTER TABLE audit_auditevent FORCE ROW LEVEL SECURITY;
END
$do$
"""

REVERSE = [
    "DROP TRIGGER IF EXISTS audit_advance_chain_heads ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_advance_chain_heads()",
    "DROP FUNCTION IF EXISTS audit_lock_chain_head(bigint)",
    "DROP TABLE IF EXISTS audit_chainhead",
]


class Migration(migrations.Migration):
    atomic = True

    dependencies = [("audit", "0007_restore_schema")]

    operations = [
        migrations.RunSQL(
            sql=[*TABLE, LOCK_FUNCTION, ADVANCE_FUNCTION, BACKFILL, *TRIGGER],
            reverse_sql=REVERSE,
        ),
    ]
