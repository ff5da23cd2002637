# Hand-written: a row-level-security policy change (no model change).
#
# A person's own memberships of every agency become READABLE in a transaction that names
# them in app.user_id (accounts.sessions.own_sessions_context / person_context): two-factor
# policy (mfa.required_by) and the cross-agency checks of admin resets must see them all.
# Writes stay bound to the agency: the new policy is FOR SELECT only, so INSERT, UPDATE and
# DELETE still pass only tenant_isolation (agency_id = portal_current_agency()), in both
# USING and WITH CHECK. Raw SQL because policies have no ORM form. Tested by
# test_a_persons_other_memberships_are_readable_only_when_named_and_never_writable.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_identity"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                """
                CREATE POLICY own_memberships_readable ON accounts_membership
                FOR SELECT
                USING (user_id = NULLIF(current_setting('app.user_id', true), '')::bigint)
                """,
            ],
            reverse_sql=[
                "DROP POLICY IF EXISTS own_memberships_readable ON accounts_membership",
            ],
        ),
    ]
