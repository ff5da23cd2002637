import django.db.models.deletion
from django.db import migrations, models

# Like the audit log itself: an agency's archives are visible to its own context only, the
# platform chain's only in the platform context.
POLICY = """(
    agency_id = portal_current_agency()
    OR (agency_id IS NULL AND current_setting('app.platform', true) = 'on')
)"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0004_viewer_keyset_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditArchive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "month",
                    models.DateField(help_text="First day of the month (UTC) the archive holds"),
                ),
                ("events", models.PositiveIntegerField()),
                ("first_id", models.BigIntegerField()),
                ("last_id", models.BigIntegerField()),
                ("first_prev_hash", models.CharField(max_length=64)),
                ("last_hash", models.CharField(max_length=64)),
                ("blob_name", models.CharField(max_length=200)),
                ("manifest", models.JSONField()),
                ("manifest_sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("verified_at", models.DateTimeField(blank=True, null=True)),
                (
                    "agency",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.agency",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["agency", "-month"], name="audit_archive_newest")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("agency", "month"),
                        name="audit_archive_month",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.RunSQL(
            sql=[
                "ALTER TABLE audit_auditarchive ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE audit_auditarchive FORCE ROW LEVEL SECURITY",
                f"CREATE POLICY tenant_isolation ON audit_auditarchive USING {POLICY} "
                f"WITH CHECK {POLICY}",
            ],
            reverse_sql=[
                "DROP POLICY IF EXISTS tenant_isolation ON audit_auditarchive",
                "ALTER TABLE audit_auditarchive NO FORCE ROW LEVEL SECURITY",
                "ALTER TABLE audit_auditarchive DISABLE ROW LEVEL SECURITY",
            ],
        ),
    ]
