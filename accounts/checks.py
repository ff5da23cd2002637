"""System checks of the database: the process's role is one row-level security binds, and
every agency's storage location is configured.

Run by the release phase: ``manage.py check --deploy --database default``."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connections

from accounts.models import Agency
from vault.locations import locations


@register(Tags.database)
def check_app_database_role(app_configs, databases=None, **kwargs):
    if not databases or "default" not in databases or settings.PORTAL_DB_ROLE == "owner":
        return []
    with connections["default"].cursor() as cursor:
        return role_problems(cursor)


def role_problems(cursor) -> list[Error]:
    """What is wrong with the role ``cursor`` is connected as, for serving tenant traffic."""
    # nosemgrep: portal-raw-sql -- the connected role's own attributes, from pg_roles
    cursor.execute(
        """
        SELECT r.rolsuper, r.rolbypassrls,
               (SELECT count(*) FROM pg_tables t
                WHERE t.schemaname = 'public' AND t.tableowner = current_user)
        FROM pg_roles r WHERE r.rolname = current_user
        """
    )
    is_super, bypasses_rls, owned_tables = cursor.fetchone()
    errors = []
    if is_super or bypasses_rls:
        errors.append(
            Error(
                "The app's database role is a superuser or has BYPASSRLS: tenant row-level "
                "security would not apply.",
                hint="Set DATABASE_APP_URL to a role with NOSUPERUSER NOBYPASSRLS.",
                id="accounts.E001",
            )
        )
    if owned_tables:
        errors.append(
            Error(
                f"The app's database role owns {owned_tables} table(s).",
                hint="Run migrations as the owner role (DATABASE_URL); serve as DATABASE_APP_URL.",
                id="accounts.E002",
            )
        )
    return errors


@register(Tags.database)
def check_agency_locations(app_configs, databases=None, **kwargs):
    """Every agency's storage location is still configured (a location taken out of
    STORAGE_LOCATIONS while agencies keep their blobs there would fail their every file)."""
    if not databases or "default" not in databases:
        return []
    if Agency._meta.db_table not in connections["default"].introspection.table_names():
        return []  # not migrated yet (the release's check runs after migrate)
    known = set(locations())
    missing = (
        Agency.objects.exclude(storage_location__in=known)
        .values_list("storage_location", flat=True)
        .distinct()
    )
    return [
        Error(
            f"Agencies keep their blobs in the storage location {name!r}, which "
            "STORAGE_LOCATIONS no longer names.",
            hint="Put the location back (see docs/operations.md, 'Data sovereignty').",
            id="accounts.E003",
        )
        for name in sorted(missing)
    ]
