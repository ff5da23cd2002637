"""The policy module is the single source of permissions, and the docs say the same."""

from pathlib import Path

from accounts import policy
from accounts.models import Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_docs_permissions_table_matches_the_policy_module():
    assert policy.permissions_table_markdown() in DOC.read_text(), (
        "docs/permissions.md is out of date: paste the output of "
        "`manage.py permissions_table` into it."
    )


def test_staff_cannot_message_release_change_due_dates_or_close():
    for permission in (
        policy.REQUEST_MESSAGE_REQUESTER,
        policy.DOCUMENT_RELEASE,
        policy.REQUEST_CHANGE_DUE_DATE,
        policy.REQUEST_CLOSE,
    ):
        assert not policy.role_has(Role.STAFF, permission)
        assert policy.role_has(Role.PUBLISHER, permission)


def test_staff_do_internal_work():
    for permission in (
        policy.REQUEST_LOG,
        policy.REQUEST_INTERNAL_WORK,
        policy.DOCUMENT_UPLOAD,
        policy.DOCUMENT_REDACT,
    ):
        assert policy.role_has(Role.STAFF, permission)


def test_only_admins_manage_the_agency_and_read_the_audit_log():
    for permission in (
        policy.AGENCY_SETTINGS,
        policy.USERS_MANAGE,
        policy.AUDIT_VIEW,
        policy.DEADLINE_RULES_MANAGE,
    ):
        holders = {role for role in Role if policy.role_has(role, permission)}
        assert holders == {Role.ADMIN}


def test_department_admins_manage_their_department_users_but_not_everyone():
    assert policy.role_has(Role.DEPARTMENT_ADMIN, policy.DEPARTMENT_USERS_MANAGE)
    assert not policy.role_has(Role.DEPARTMENT_ADMIN, policy.USERS_MANAGE)


def test_permission_codes_are_unique():
    codes = [p.code for p in policy.ALL_PERMISSIONS]
    assert len(codes) == len(set(codes))
    assert set(policy.ROLE_PERMISSIONS) == set(Role)
