"""Every permission in the portal, and which role holds it. The one place to look.

Views declare the permission they need (accounts.decorators.agency_permission); services ask
``can(user, agency, permission)``; templates ask ``can.<permission name>`` (``permissions_of``,
through accounts.context_processors), never a role. docs/permissions.md is generated from this
module by ``manage.py permissions_table``; tests/accounts/test_policy.py fails when the two
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from accounts.models import Agency, Membership, Role, SupportGrant, SupportRole


@dataclass(frozen=True)
class Permission:
    code: str
    description: str
    # Only lets its holder read (open pages, export): what a read-only support grant holds.
    reads_only: bool = False


def _p(code: str, description: str, *, reads_only: bool = False) -> Permission:
    return Permission(code, description, reads_only)


STAFF_AREA = _p("staff.access", "Enter the staff area of the agency", reads_only=True)
AGENCY_SETTINGS = _p("agency.settings.manage", "Change agency settings, sign-in policy and SSO")
USERS_VIEW = _p("users.view", "See the agency's staff list and a member's details", reads_only=True)
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
    "departments.view",
    "See the agency's departments and who works in each (for routing)",
    reads_only=True,
)
DEPARTMENTS_MANAGE = _p("departments.manage", "Create, rename and remove departments")
TEMPLATES_MANAGE = _p("templates.manage", "Edit message and closure templates, and tags")
DEADLINE_RULES_MANAGE = _p("deadline_rules.manage", "Edit deadline rules and holidays")
AUDIT_VIEW = _p("audit.view", "Read and export the agency's audit log", reads_only=True)
REPORTS_VIEW = _p("reports.view", "See and export agency reports", reads_only=True)
SUPPORT_ACCESS_MANAGE = _p(
    "support_access.manage",
    "Approve, deny and revoke platform operators' support access; see everything done under it",
)
REQUEST_LOG = _p("request.log", "Log requests received by phone, mail, email or in person")
REQUEST_INTERNAL_WORK = _p(
    "request.internal_work", "Tasks, internal notes and time entries on visible requests"
)
REQUEST_EDIT = _p("request.edit", "Edit a request's details, departments and visibility")
REQUEST_MESSAGE_REQUESTER = _p("request.message_requester", "Send messages to the requester")
REQUEST_CHANGE_DUE_DATE = _p("request.change_due_date", "Extend, pause or change the due date")
REQUEST_CLOSE = _p("request.close", "Close and reopen requests")
REQUEST_INVOICE = _p(
    "request.invoice",
    "Build, send and void invoices, waive fees, record offline payments and refunds",
)
INVOICE_VIEW = _p("invoice.view", "See a request's invoices and payments", reads_only=True)
BILLING_SETTINGS = _p(
    "billing.settings", "Set the agency's fees and hourly rates, connect its Stripe account"
)
TIME_EDIT_OTHERS = _p("time.edit_others", "Correct other people's time entries")
DOCUMENT_UPLOAD = _p("document.upload", "Upload documents to a request")
DOCUMENT_REDACT = _p("document.redact", "Redact documents")
DOCUMENT_RELEASE = _p("document.release", "Release documents to the requester or the public")
WEBHOOKS_MANAGE = _p(
    "webhooks.manage", "Add, change and remove webhook addresses; read their delivery log"
)

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
    SUPPORT_ACCESS_MANAGE,
    REQUEST_LOG,
    REQUEST_INTERNAL_WORK,
    REQUEST_EDIT,
    REQUEST_MESSAGE_REQUESTER,
    REQUEST_CHANGE_DUE_DATE,
    REQUEST_CLOSE,
    REQUEST_INVOICE,
    INVOICE_VIEW,
    BILLING_SETTINGS,
    TIME_EDIT_OTHERS,
    DOCUMENT_UPLOAD,
    DOCUMENT_REDACT,
    DOCUMENT_RELEASE,
    WEBHOOKS_MANAGE,
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
        INVOICE_VIEW,
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

# A platform operator under a live support grant (accounts.support) holds the granted role:
# read-only by default, which is every permission that only reads. A read-only role is also
# refused every unsafe HTTP method (accounts.decorators.agency_permission), so a view that
# changes something behind a reading permission still refuses it.
SUPPORT_ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    SupportRole.READ_ONLY: frozenset(p for p in ALL_PERMISSIONS if p.reads_only),
}


def membership_for(user, agency: Agency | None) -> Membership | None:
    """The user's active membership in the agency, cached on the user object for the request.
    A deactivated membership holds no role: its user is a member of the public here.

    A platform operator (``is_staff``) with no membership but a live support grant gets a
    *support membership*: an unsaved Membership with the granted role, its grant on
    ``support_grant``. Every permission check and access helper goes through here, so the
    grant works everywhere a role does and ends everywhere at its expiry."""
    if agency is None or user is None or not user.is_authenticated or not user.is_active:
        return None
    cache = user.__dict__.setdefault("_membership_cache", {})
    if agency.pk not in cache:
        membership = Membership.objects.filter(agency=agency, user=user, is_active=True).first()
        if membership is None and user.is_staff:
            membership = _support_membership(user, agency)
        cache[agency.pk] = membership
    return cache[agency.pk]


def live_support_grant(user, agency: Agency) -> SupportGrant | None:
    """The operator's grant to the agency that is live at this instant, if any."""
    now = timezone.now()
    return (
        SupportGrant.objects.filter(
            agency=agency,
            operator=user,
            status=SupportGrant.Status.ACTIVE,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .select_related("decided_by")
        .order_by("-expires_at")
        .first()
    )


def _support_membership(user, agency: Agency) -> Membership | None:
    grant = live_support_grant(user, agency)
    if grant is None:
        return None
    membership = Membership(agency=agency, user=user, role=grant.role, is_active=True)
    membership.support_grant = grant  # type: ignore[attr-defined]
    return membership


def support_grant_of(membership: Membership | None) -> SupportGrant | None:
    """The grant behind a support membership; None for a real membership (or none)."""
    return getattr(membership, "support_grant", None)


def remember_membership(user, agency: Agency, membership: Membership) -> None:
    """Prime the per-request cache with an active membership just read together with its
    user (a list of the agency's staff), so asking about each of them costs no query."""
    user.__dict__.setdefault("_membership_cache", {})[agency.pk] = membership


def forget_membership(user) -> None:
    """Drop the per-request caches after a role change in the same request (the user's
    memberships, and the staff list requests_portal.access keeps beside them)."""
    user.__dict__.pop("_membership_cache", None)
    user.__dict__.pop("_active_staff_cache", None)


# Which roles a member may hand out (invitations, role changes): never more than they hold.
_GRANTABLE: dict[str, tuple[str, ...]] = {
    Role.ADMIN: (Role.ADMIN, Role.DEPARTMENT_ADMIN, Role.PUBLISHER, Role.STAFF),
    Role.DEPARTMENT_ADMIN: (Role.PUBLISHER, Role.STAFF),
}


def grantable_roles(role: str | None) -> tuple[str, ...]:
    return _GRANTABLE.get(role or "", ())


def _permissions_of_role(role: str) -> frozenset[Permission]:
    return ROLE_PERMISSIONS.get(role) or SUPPORT_ROLE_PERMISSIONS.get(role) or frozenset()


def role_has(role: str, permission: Permission) -> bool:
    return permission in _permissions_of_role(role)


def is_read_only_role(role: str) -> bool:
    """A role whose every permission only reads (support's read-only role)."""
    held = _permissions_of_role(role)
    return bool(held) and all(p.reads_only for p in held)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def method_allowed(role: str, method: str) -> bool:
    """Read-only roles may only read: every unsafe HTTP method is refused them."""
    return method in SAFE_METHODS or not is_read_only_role(role)


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
    """The role x permission table of docs/permissions.md, generated from ROLE_PERMISSIONS
    (and the read-only support role's, last)."""
    roles = [*Role, SupportRole.READ_ONLY]
    header = "| permission | what it allows | " + " | ".join(r.label for r in roles) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in roles) + " |"
    rows = [
        f"| `{p.code}` | {p.description} | "
        + " | ".join("yes" if role_has(r, p) else "no" for r in roles)
        + " |"
        for p in ALL_PERMISSIONS
    ]
    return "\n".join([header, rule, *rows]) + "\n"
