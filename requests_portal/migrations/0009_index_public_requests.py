"""Index the requests that are public already. A migration of its own: the table's foreign
key is created at the end of 0008, and Django's check of existing rows there would run with
no tenant context (row-level security would hide every request)."""

from django.db import migrations


def index_public_requests(apps, schema_editor):
    """Index what is public already, agency by agency: row-level security binds the owner
    too, so each agency's rows are visible only in that agency's context."""
    with schema_editor.connection.cursor() as cursor:
        # Check each agency's foreign keys now, in its own context, not at commit (by then
        # the context is gone and row-level security would hide the referenced requests).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT id FROM accounts_agency")
        for (agency_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.agency_id', %s, true)", [str(agency_id)])
            cursor.execute(
                """
                INSERT INTO requests_portal_publicsearchentry
                    (agency_id, request_id, year, sequence, search_vector)
                SELECT agency_id, id, year, sequence,
                       coalesce(search_vector, ''::tsvector) || ('agency' || agency_id)::tsvector
                FROM requests_portal_recordsrequest
                WHERE visibility = 'published'
                   OR (visibility = 'embargoed' AND public_from IS NOT NULL
                       AND public_from <= now())
                ON CONFLICT (request_id) DO NOTHING
                """
            )
        cursor.execute("SELECT set_config('app.agency_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [("requests_portal", "0008_public_search_entry")]

    operations = [migrations.RunPython(index_public_requests, migrations.RunPython.noop)]
