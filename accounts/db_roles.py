"""Grants for the app role, refreshed after every ``migrate``.

The web and worker processes connect as ``settings.DATABASE_APP_ROLE``: it may read and write
rows (row-level security decides which), never change the schema, and never UPDATE, DELETE
or TRUNCATE an append-only table (those carry the comment "append-only" in PostgreSQL). It may
call the few SECURITY DEFINER functions commented "app-callable" (audit partitions).
"""

from django.conf import settings
from django.db import connections
from psycopg import sql


def grant_app_role(*, using: str = "default", **kwargs) -> None:
    connection = connections[using]
    app_role = settings.DATABASE_APP_ROLE
    with connection.cursor() as cursor:
        # nosemgrep: portal-raw-sql -- which role is connected: no model for roles
        cursor.execute("SELECT current_user")
        if cursor.fetchone()[0] == app_role:
            return  # the app role cannot grant to itself; migrate runs as the owner
        # nosemgrep: portal-raw-sql -- a pg_roles lookup; the name is a bound parameter
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role])
        if cursor.fetchone() is None:
            return
        role = sql.Identifier(app_role)
        statements = [
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(role),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        ]
        # nosemgrep: portal-raw-sql -- catalogue query for append-only tables; no user input
        cursor.execute(
            """
            SELECT c.relname, c.relispartition FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              AND obj_description(c.oid, 'pg_class') LIKE 'append-only%%'
            """
        )
        for table, partition in cursor.fetchall():
            # A partition is written through its parent only (which checks the parent's
            # grants and policies): inserting into it by name could forge ids and times.
            revoked = (
                "INSERT, UPDATE, DELETE, TRUNCATE" if partition else "UPDATE, DELETE, TRUNCATE"
            )
            statements.append(
                sql.SQL("REVOKE {} ON {} FROM {}").format(
                    sql.SQL(revoked), sql.Identifier(table), role
                )
            )
        # Functions that run as their owner for a narrow job the app role may ask for (the
        # audit log's monthly partitions): their comment starts with "app-callable".
        # nosemgrep: portal-raw-sql -- catalogue query for app-callable functions; no input
        cursor.execute(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public'
              AND obj_description(p.oid, 'pg_proc') LIKE 'app-callable%%'
            """
        )
        for (function,) in cursor.fetchall():
            statements.append(
                sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(sql.SQL(function), role)
            )
        for statement in statements:
            # nosemgrep: portal-raw-sql -- GRANT/REVOKE are DDL; names quoted by psycopg.sql
            cursor.execute(statement.as_string(cursor.connection))
