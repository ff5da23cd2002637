"""Fill the staff word index (0018) for the requests filed before it. A migration of its own,
agency by agency, as 0009 does: row-level security binds the owner too, so each agency's
rows are visible and writable only in that agency's context."""

from django.db import migrations


def index_existing_requests(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # Check each agency's foreign keys now, in its own context, not at commit.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT id FROM accounts_agency")
        for (agency_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.agency_id', %s, true)", [str(agency_id)])
            cursor.execute(
                """
                INSERT INTO requests_portal_staffsearchterm (agency_id, request_id, lexeme)
                SELECT r.agency_id, r.id, word
                FROM requests_portal_recordsrequest r,
                     unnest(tsvector_to_array(coalesce(r.search_vector, ''::tsvector))) AS word
                WHERE NOT EXISTS (
                    SELECT 1 FROM requests_portal_staffsearchterm t WHERE t.request_id = r.id
                )
                """
            )
        cursor.execute("SELECT set_config('app.agency_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [("requests_portal", "0018_staff_search_term")]

    operations = [migrations.RunPython(index_existing_requests, migrations.RunPython.noop)]
