import django.db.models.deletion
from django.db import migrations, models

from accounts.rls import enable_tenant_rls

# After every write of a request's text (the BEFORE trigger has just set its search_vector):
# its rows in the staff word index follow, in the same transaction. The policy's WITH CHECK
# binds the rows to the request's agency, whose context the write runs in.
TERMS_TRIGGER_SQL = [
    """
    CREATE FUNCTION requests_portal_staff_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.search_vector IS NOT DISTINCT FROM OLD.search_vector
               AND NEW.agency_id = OLD.agency_id THEN
                RETURN NULL;
            END IF;
            DELETE FROM requests_portal_staffsearchterm WHERE request_id = NEW.id;
        END IF;
        INSERT INTO requests_portal_staffsearchterm (agency_id, request_id, lexeme)
        SELECT NEW.agency_id, NEW.id, word
        FROM unnest(tsvector_to_array(coalesce(NEW.search_vector, ''::tsvector))) AS word;
        RETURN NULL;
    END
    $$
    """,
    "CREATE TRIGGER requests_portal_staff_search_terms "
    "AFTER INSERT OR UPDATE OF title, description, search_vector "
    "ON requests_portal_recordsrequest FOR EACH ROW "
    "EXECUTE FUNCTION requests_portal_staff_search_terms()",
]
TERMS_TRIGGER_REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS requests_portal_staff_search_terms ON requests_portal_recordsrequest",
    "DROP FUNCTION IF EXISTS requests_portal_staff_search_terms()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("requests_portal", "0017_request_channel_api"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffSearchTerm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("lexeme", models.TextField()),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, to="accounts.agency"
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="staff_search_terms",
                        to="requests_portal.recordsrequest",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["agency", "lexeme", "request"], name="staff_search_term")
                ],
            },
        ),
        enable_tenant_rls("requests_portal_staffsearchterm"),
        migrations.RunSQL(TERMS_TRIGGER_SQL, TERMS_TRIGGER_REVERSE_SQL),
    ]
