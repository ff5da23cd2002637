"""Give every existing agency the usual redaction reasons (new agencies get them when they
are created: documents/signals.py), so "Redact" does not dead-end. A label an agency already
has, active or retired, is left as it is."""

from django.db import migrations

# Frozen here (documents.agency_settings.services.DEFAULT_REDACTION_REASONS may change later).
LABELS = (
    "Personal privacy",
    "Ongoing investigation",
    "Attorney-client privilege",
    "Security-sensitive information",
    "Medical information",
    "Juvenile records",
    "Trade secrets or confidential business information",
    "Internal deliberations (drafts and advice)",
)


def add_default_reasons(apps, schema_editor):
    """Agency by agency: row-level security binds the owner too, so each agency's rows are
    written in that agency's context."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts_agency")
        for (agency_id,) in cursor.fetchall():
            cursor.execute("SELECT set_config('app.agency_id', %s, true)", [str(agency_id)])
            for label in LABELS:
                cursor.execute(
                    """
                    INSERT INTO documents_redactionreason (agency_id, label, is_active)
                    VALUES (%s, %s, true)
                    ON CONFLICT (agency_id, label) DO NOTHING
                    """,
                    [agency_id, label],
                )
        cursor.execute("SELECT set_config('app.agency_id', '', true)")


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_scan_coverage")]

    operations = [migrations.RunPython(add_default_reasons, migrations.RunPython.noop)]
