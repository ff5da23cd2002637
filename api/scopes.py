"""A personal API token's scopes: read or write on each resource. ``write`` implies nothing
about ``read``: a token that files requests and reads them holds both."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

READ = "read"
WRITE = "write"

RESOURCES = {
    "requests": _("Requests, their messages and timelines"),
    "documents": _("Documents"),
    "invoices": _("Invoices"),
    "audit": _("The agency's audit log"),
    "users": _("Users and roles"),
    "departments": _("Departments"),
}


def scope_code(resource: str, level: str) -> str:
    return f"{resource}:{level}"


ALL_SCOPES: tuple[str, ...] = tuple(
    scope_code(resource, level) for resource in RESOURCES for level in (READ, WRITE)
)


def scope_choices() -> list[tuple[str, str]]:
    return [
        (
            scope_code(resource, level),
            (_("%(what)s: read") if level == READ else _("%(what)s: change")) % {"what": label},
        )
        for resource, label in RESOURCES.items()
        for level in (READ, WRITE)
    ]
