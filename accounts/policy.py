"""Every permission in the portal, and which role holds it. The one place to look.

Views declare the permission they need (accounts.decorators.agency_permission); services ask
``can(user, agency, permission)``; templates ask ``can.<permission name>`` (``permissions_of``,
through accounts.context_processors), never a role. docs/permissions.md is generated from this
module by ``manage.py permissions_table``; tests/accounts/test_policy.py fails when the two
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Agency, Membership, Role


@dataclass(frozen=True)
class Permission:
    code: str
    description: str


def _p(code: str, description: str) -> Permission:
    return Permission(code, description)


STAFF_AREA = _p("staff.access", "Enter the staff area of the agency")
AGENCY_SETTINGS = _p("agency.settings.manage", "Change agency settings, sign-in policy and SSO")
USERS_VIEW = _p("users.view", "See the agency's staff list and a member's details")
USERS_INVITE = _p(
    "users.invite", "Invite people to join as staff (department admins: staff and publishers)"
)
USERS_MANAGE = _p(
    "users.manage",
    "Change roles, deactivate users, end their sessions, unlock them, reset their two-factor",
)
DEPARTMENT_USERS_MANAGE = _p(
    "users.manage_department", "Manage the users of their own departments (not admins)"
)
DEPARTMENTS_VIEW = _p(
    "departments.view", "See the agency's departments and who works in each (for routing)"
)
DEPARTMENTS_MANAGE = _p("departments.manage", "Create, rename and remove departments")
TEMPLATES_MANAGE = _p("templates.manage", "Edit message and closure templates, and tags")
DEADLINE_RULES_MANAGE = _p("deadline_rules.manage", "Edit deadline rules and holidays")
AUDIT_VIEW = _p("audit.view", "Read and export the agency's audit log")
REPORTS_VIEW = _p("reports.view", "See and export agency reports")
REQUEST_LOG = _p("request.log", "Log requests received by phone, mail, email or in person")
REQUEST_INTERNAL_WORK = _p(
    "request.internal_work", "Tasks, internal notes and time entries on visible requests"
)
REQUEST_EDIT = _p("request.edit", "Edit a request's details, departments and visibility")
REQUEST_MESSAGE_REQUESTER = _p("request.message_requester", "Send messages to the requester")
REQUEST_CHANGE_DUE_DATE = _p("request.change_due_date", "Extend, pause or change the due date")
REQUEST_CLOSE = _p("request.close", "Close and reopen requests")
REQUEST_INVOICE = _p("request.invoice", "Create invoices and waive fees")
TIME_EDIT_OTHERS = _p("time.edit_others", "Correct other people's time entries")
DOCUMENT_UPLOAD = _p("document.upload", "Upload documents to a request")
DOCUMENT_REDACT = _p("document.redact", "Redact documents")
DOCUMENT_RELEASE = _p("document.release", "Release documents to the requester or the public")

ALL_PERMISSIONS: tuple[Permission, ...] = (
    STAFF_AREA,
    AGENCY_SETTINGS,
    USERS_VIEW,
    USERS_INVITE,
    USERS_MANAGE,
    DEPARTMENT_USERS_MANAGE,
    DEPARTMENTS_VIEW,
    DEPARTMENTS_MANAGE,
    TEMPLATES_MANAGE,
    DEADLINE_RULES_MANAGE,
    AUDIT_VIEW,
    REPORTS_VIEW,
    REQUEST_LOG,
    REQUEST_INTERNAL_WORK,
    REQUEST_EDIT,
    REQUEST_MESSAGE_REQUESTER,
    REQUEST_CHANGE_DUE_DATE,
    REQUEST_CLOSE,
    REQUEST_INVOICE,
    TIME_EDIT_OTHERS,
    DOCUMENT_UPLOAD,
    DOCUMENT_REDACT,
    DOCUMENT_RELEASE,
)
PERMISSIONS_BY_CODE = {p.code: p for p in ALL_PERMISSIONS}
# By the lower-cased name of their constant here ("templates_manage"): what templates ask
# (``{% if can.templates_manage %}``, accounts.context_processors).
PERMISSIONS_BY_NAME: dict[str, Permission] = {
    name.lower(): value for name, value in list(globals().items()) if isinstance(value, Permission)
}

_STAFF = frozenset(
    {
        STAFF_AREA,
        DEPARTMENTS_VIEW,
        REQUEST_LOG,
        REQUEST_INTERNAL_WORK,
        DOCUMENT_UPLOAD,
        DOCUMENT_REDACT,
    }
)
_PUBLISHER = _STAFF | {
    REQUEST_EDIT,
    REQUEST_MESSAGE_REQUESTER,
    REQUEST_CHANGE_DUE_DATE,
    REQUEST_CLOSE,
    REQUEST_INVOICE,
    DOCUMENT_RELEASE,
}
# Department admins hold these on the requests of their own departments; the department
# scoping itself lives in the access helpers that decide which requests a user can see.
_DEPARTMENT_ADMIN = _PUBLISHER | {
    USERS_VIEW,
    USERS_INVITE,
    DEPARTMENT_USERS_MANAGE,
    TEMPLATES_MANAGE,
}
# Admins hold everything except the department-scoped user management (they manage all).
_ADMIN = frozenset(ALL_PERMISSIONS) - {DEPARTMENT_USERS_MANAGE}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: _ADMIN,
    Role.DEPARTMENT_ADMIN: frozenset(_DEPARTMENT_ADMIN),
    Role.PUBLISHER: frozenset(_PUBLISHER),
    Role.STAFF: _STAFF,
}
# Requesters (users with no membership) hold no agency permission: what they may see of
# their own requests is decided by the request access helpers, not by a role.


def membership_for(user, agency: Agency | None) -> Membership | None:
    """The user's active membership in the agency, cached on the user object for the request.
    A deactivated membership holds no role: its user is a member of the public here."""
    if agency is None or user is None or not user.is_authenticated or not user.is_active:
        return None
    cache = user.__dict__.setdefault("_membership_cache", {})
    if agency.pk not in cache:
        cache[agency.pk] = Membership.objects.filter(
            agency=agency, user=user, is_active=True
        ).first()
    return cache[agency.pk]


def forget_membership(user) -> None:
    """Drop the per-request cache after a role change in the same request."""
    user.__dict__.pop("_membership_cache", None)


# Which roles a member may hand out (invitations, role changes): never more than they hold.
_GRANTABLE: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (Role.ADMIN, Role.DEPARTMENT_ADMIN, Role.PUBLISHER, Role.STAFF),
    Role.DEPARTMENT_ADMIN: (Role.PUBLISHER, Role.STAFF),
}


def grantable_roles(role: str | None) -> tuple[str, ...]:
    return _GRANTABLE.get(role or "", ())


def role_has(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def can(user, agency: Agency | None, permission: Permission) -> bool:
    membership = membership_for(user, agency)
    return membership is not None and role_has(membership.role, permission)


def permissions_of(user, agency: Agency | None) -> dict[str, bool]:
    """Every permission by name (``PERMISSIONS_BY_NAME``) and whether the user holds it in
    the agency: what a template asks, so a link shows exactly when its page would open."""
    membership = membership_for(user, agency)
    return {
        name: membership is not None and role_has(membership.role, permission)
        for name, permission in PERMISSIONS_BY_NAME.items()
    }


def permissions_table_markdown() -> str:
    """The role x permission table of docs/permissions.md, generated from ROLE_PERMISSIONS."""
    roles = list(Role)
    header = "| permission | what it allows | " + " | ".join(r.label for r in roles) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in roles) + " |"
    rows = [
        f"| `{p.code}` | {p.description} | "
        + " | ".join("yes" if role_has(r, p) else "no" for r in roles)
        + " |"
        for p in ALL_PERMISSIONS
    ]
    return "\n".join([header, rule, *rows]) + "\n"
