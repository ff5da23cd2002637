"""Audit event types recorded by the accounts app: sign-in, two-factor, single sign-on,
sessions, invitations and user administration, each with a label and a category for the audit
log's filter and a sentence for its rows. Details never hold a password, a code or a token:
only what a reviewer needs to reconstruct who did what.

Also the titles of the accounts pages, for the "opened a page" events every signed-in request
records (``PAGE_VIEWED``)."""

import contextlib
from collections.abc import Mapping
from typing import Any

from django.urls import Resolver404, resolve

from audit.registry import (
    Category,
    EventType,
    Sentence,
    category,
    page_title,
    register,
    register_page_titles,
)

SIGN_IN = category("signin", "Sign-in and sessions", 10)
PASSWORDS = category("passwords", "Passwords and two-factor", 15)
PEOPLE = category("people", "People and roles", 20)
SETTINGS = category("settings", "Settings", 70)
PAGE_VIEWS = category("pages", "Page views", 90)

# How a person proved who they are, as the details name it.
_METHODS = {
    "password": "a password",  # nosec B105  # a label in the audit log, not a password
    "ldap": "the agency's directory (LDAP)",
    "oidc": "single sign-on (OpenID Connect)",
    "saml": "single sign-on (SAML)",
    "sso": "single sign-on",
    "totp": "a code from an authenticator app",
    "recovery": "a recovery code",
    "totp or recovery code": "a code",
    "totp setup": "a code while setting up two-factor",
    "password change": "their current password while changing it",
}


def _how(method: object) -> str:
    return _METHODS.get(str(method), str(method) or "an unnamed method")


def _signed_in(ctx: Mapping[str, Any]) -> str:
    return f"{ctx['actor']} signed in with {_how(ctx.get('method', 'password'))}"


def _login_failed(ctx: Mapping[str, Any]) -> str:
    text = f"Failed sign-in as {ctx['email']} (wrong password or unknown address)"
    return text + ", now locked out" if ctx.get("locked_out") else text


def _mfa_failed(ctx: Mapping[str, Any]) -> str:
    if ctx.get("throttled"):
        return f"{ctx['actor']} tried a two-factor code too soon after wrong ones (refused)"
    return f"{ctx['actor']} entered a wrong two-factor code ({_how(ctx.get('method', ''))})"


def _member(ctx: Mapping[str, Any]) -> str:
    """The member an admin acted on: their name where the membership is still there."""
    return str(ctx["target"] or ctx["email"])


def _mfa_reset(ctx: Mapping[str, Any]) -> str:
    if ctx.get("by") == "platform support":
        return f"Platform support reset two-factor sign-in for {ctx['email']}: {ctx['reason']}"
    return f"{ctx['actor']} reset two-factor sign-in for {_member(ctx)}"


def _sessions_ended(ctx: Mapping[str, Any]) -> str:
    count = ctx["count"]
    sessions = "session" if count == 1 else "sessions"
    if ctx["target"]:  # an admin, from the member's page
        return f"{ctx['actor']} signed {ctx['target']} out of {count} {sessions}"
    return f"{ctx['actor']} signed out of {count} other {sessions}"


def _page_viewed(ctx: Mapping[str, Any]) -> str:
    """ "Maria Lopez opened request 26-12": the page's title, not its URL name."""
    view, path = str(ctx.get("view") or ""), str(ctx.get("path") or "")
    kwargs: dict[str, object] = {}
    with contextlib.suppress(Resolver404):
        kwargs = dict(resolve(path).kwargs) if path else {}
    title = page_title(view, kwargs) if view else f"the address {path}"
    actor, status = ctx["actor"], int(ctx.get("status") or 200)
    if status in (401, 403):
        return f"{actor} was refused {title} (not allowed)"
    if status == 404:
        return f"{actor} asked for {title}, which was not found"
    if ctx.get("method", "GET") in ("GET", "HEAD"):
        return f"{actor} opened {title}"
    if status >= 400:
        return f"{actor} submitted {title}, which was refused"
    return f"{actor} submitted {title}"


def _event(code: str, template: Sentence, label: str, group: Category = SIGN_IN) -> EventType:
    return register(code, template, label=label, category=group)


# --- Sign-in and sign-out ---------------------------------------------------------------------
LOGIN_SUCCEEDED = _event("auth.login", _signed_in, "Signed in")
LOGIN_FAILED = _event("auth.login_failed", _login_failed, "Failed to sign in")
LOGIN_REFUSED = _event(
    "auth.login_refused", "Sign-in refused for {email}: {reason}", "Sign-in refused"
)
LOCKED_OUT = _event(
    "auth.lockout",
    "Sign-in locked for {email} after repeated failures",
    "Locked out after failed sign-ins",
)
UNLOCKED = _event(
    "auth.unlock",
    lambda ctx: f"{ctx['actor']} unlocked sign-in for {_member(ctx)}",
    "Unlocked a member's sign-in",
)
LOGGED_OUT = _event("auth.logout", "{actor} signed out", "Signed out")
REAUTHENTICATED = _event(
    "auth.reauthenticated",
    lambda ctx: f"{ctx['actor']} confirmed who they are with {_how(ctx['method'])}",
    "Confirmed who they are",
)
REAUTH_FAILED = _event(
    "auth.reauth_failed",
    lambda ctx: f"{ctx['actor']} failed to confirm who they are with {_how(ctx['method'])}",
    "Failed to confirm who they are",
)

# --- Passwords --------------------------------------------------------------------------------
PASSWORD_RESET_REQUESTED = _event(
    "auth.password_reset_requested",
    "Someone asked for a password reset link for {email}",
    "Asked for a password reset",
    PASSWORDS,
)
PASSWORD_RESET_COMPLETED = _event(
    "auth.password_reset_completed",
    "{actor} set a new password with a reset link",
    "Reset their password",
    PASSWORDS,
)
PASSWORD_RESET_REFUSED = _event(
    "auth.password_reset_refused",
    "A password reset link was refused ({reason})",
    "Password reset link refused",
    PASSWORDS,
)
PASSWORD_CHANGED = _event(
    "auth.password_changed", "{actor} changed their password", "Changed their password", PASSWORDS
)
BREACH_CHECK_UNAVAILABLE = _event(
    "auth.breach_check_unavailable",
    "The breached-password check could not answer ({reason}); the password was {outcome}",
    "Breached-password check unavailable",
    PASSWORDS,
)

# --- Sign-up ----------------------------------------------------------------------------------
SIGNUP_REQUESTED = _event(
    "auth.signup_requested",
    "Someone asked to create an account for {email}",
    "Asked for an account",
    PEOPLE,
)
SIGNUP_COMPLETED = _event(
    "auth.signup_completed", "{actor} created an account", "Created an account", PEOPLE
)
SIGNUP_REFUSED = _event(
    "auth.signup_refused",
    "An account confirmation link was refused ({reason})",
    "Account confirmation link refused",
    PEOPLE,
)

# --- Two-factor -------------------------------------------------------------------------------
MFA_ENROLLED = _event(
    "mfa.enrolled", "{actor} turned on two-factor sign-in", "Turned on two-factor", PASSWORDS
)
MFA_VERIFIED = _event(
    "mfa.verified",
    lambda ctx: f"{ctx['actor']} passed two-factor sign-in with {_how(ctx['method'])}",
    "Passed two-factor",
    PASSWORDS,
)
MFA_FAILED = _event("mfa.failed", _mfa_failed, "Wrong two-factor code", PASSWORDS)
MFA_SECRET_UNREADABLE = _event(
    "mfa.secret_unreadable",
    "The authenticator secret of {actor} could not be opened ({reason}): every code fails",
    "Authenticator secret unreadable",
    PASSWORDS,
)
MFA_RECOVERY_CODES_CREATED = _event(
    "mfa.recovery_codes_created",
    "{actor} made new recovery codes",
    "Made new recovery codes",
    PASSWORDS,
)
MFA_DISABLED = _event(
    "mfa.disabled", "{actor} turned off two-factor sign-in", "Turned off two-factor", PASSWORDS
)
MFA_RESET = _event("mfa.reset", _mfa_reset, "Reset a member's two-factor", PASSWORDS)

# --- Single sign-on ---------------------------------------------------------------------------
SSO_LOGIN = _event("sso.login", "{actor} signed in through {provider}", "Signed in through SSO")
SSO_FAILED = _event(
    "sso.failed", "A sign-in through {provider} failed: {reason}", "SSO sign-in failed"
)
SSO_LINKED = _event(
    "sso.linked",
    "{actor} linked their account to {provider}",
    "Linked an SSO sign-in",
    PEOPLE,
)
SSO_UNLINKED = _event(
    "sso.unlinked",
    "{actor} removed the {provider} sign-in of {email}",
    "Removed an SSO sign-in",
    PEOPLE,
)
SSO_PROVISIONED = _event(
    "sso.provisioned",
    "{actor} joined as {role} through {provider}",
    "Joined through SSO",
    PEOPLE,
)
SSO_ROLE_SYNCED = _event(
    "sso.role_synced",
    "{provider} changed {actor}'s role from {old_role} to {new_role}",
    "Role changed by SSO",
    PEOPLE,
)
PROVIDER_CREATED = _event(
    "sso.provider_created",
    "{actor} added the sign-in option {name}",
    "Added a sign-in option",
    SETTINGS,
)
PROVIDER_UPDATED = _event(
    "sso.provider_updated",
    "{actor} changed the sign-in option {name}",
    "Changed a sign-in option",
    SETTINGS,
)
PROVIDER_DELETED = _event(
    "sso.provider_deleted",
    "{actor} removed the sign-in option {name}",
    "Removed a sign-in option",
    SETTINGS,
)
PROVIDER_TESTED = _event(
    "sso.provider_tested",
    "{actor} tested the sign-in option {name}",
    "Tested a sign-in option",
    SETTINGS,
)
SIGNIN_POLICY_CHANGED = _event(
    "agency.signin_policy_changed",
    "{actor} changed the sign-in policy",
    "Changed the sign-in policy",
    SETTINGS,
)
AGENCY_CONTACT_CHANGED = _event(
    "agency.contact_changed",
    "{actor} changed what the public is told about the agency: {what}",
    "Changed the agency's contact details or notices",
    SETTINGS,
)
AGENCY_CREATED = _event(
    "agency.created",
    "{actor} created the agency {slug} with its documents in the storage location "
    "{storage_location}",
    "Created an agency",
    SETTINGS,
)
AGENCY_LOCATION_CHANGED = _event(
    "agency.storage_location_changed",
    "{actor} moved the agency {slug}, which had stored nothing yet, from the storage location "
    "{from} to {to}",
    "Changed an agency's storage location",
    SETTINGS,
)

# --- Sessions ---------------------------------------------------------------------------------
SESSION_ENDED = _event(
    "session.ended", "{actor} signed out one of their other sessions", "Ended a session"
)
SESSIONS_ENDED = _event("session.ended_all", _sessions_ended, "Ended sessions")
SESSION_EXPIRED = _event(
    "session.expired", "{actor} was signed out ({reason})", "Signed out by the session limit"
)

# --- Users, invitations, account details ------------------------------------------------------
USER_INVITED = _event(
    "users.invited", "{actor} invited {email} as {role}", "Invited someone", PEOPLE
)
INVITATION_RESENT = _event(
    "users.invitation_resent",
    "{actor} sent the invitation to {email} again",
    "Sent an invitation again",
    PEOPLE,
)
INVITATION_REVOKED = _event(
    "users.invitation_revoked",
    "{actor} withdrew the invitation to {email}",
    "Withdrew an invitation",
    PEOPLE,
)
INVITATION_ACCEPTED = _event(
    "users.invitation_accepted", "{actor} joined as {role}", "Accepted an invitation", PEOPLE
)
INVITATION_REFUSED = _event(
    "users.invitation_refused",
    "An invitation link was refused ({reason})",
    "Invitation link refused",
    PEOPLE,
)
ROLE_CHANGED = _event(
    "users.role_changed",
    lambda ctx: f"{ctx['actor']} changed {_member(ctx)}'s role from {ctx['old']} to {ctx['new']}",
    "Changed a member's role",
    PEOPLE,
)
USER_DEACTIVATED = _event(
    "users.deactivated",
    lambda ctx: f"{ctx['actor']} deactivated {_member(ctx)}",
    "Deactivated a member",
    PEOPLE,
)
USER_REACTIVATED = _event(
    "users.reactivated",
    lambda ctx: f"{ctx['actor']} reactivated {_member(ctx)}",
    "Reactivated a member",
    PEOPLE,
)
EMAIL_CHANGE_REQUESTED = _event(
    "account.email_change_requested",
    "{actor} asked to change their email address to {new_email}",
    "Asked to change their email address",
    PEOPLE,
)
EMAIL_CHANGED = _event(
    "account.email_changed",
    "{actor} changed their email address from {old_email} to {new_email}",
    "Changed their email address",
    PEOPLE,
)
NAME_CHANGED = _event(
    "account.name_changed", "{actor} changed their name", "Changed their name", PEOPLE
)
PHONE_CHANGED = _event(
    "account.phone_changed",
    "{actor} changed their phone number",
    "Changed their phone number",
    PEOPLE,
)
LANGUAGE_CHANGED = _event(
    "account.language_changed",
    "{actor} chose the language {language}",
    "Chose a language",
    PEOPLE,
)

PAGE_VIEWED = _event("page.view", _page_viewed, "Opened a page", PAGE_VIEWS)

# --- Page titles: what "opened …" names (a URL's parameters fill the braces) ------------------
register_page_titles(
    {
        "home": "the home page",
        "staff:staff_dashboard": "the staff dashboard",
        "accounts:login": "the sign-in page",
        "accounts:logout": "the sign-out page",
        "accounts:signup": "the sign-up page",
        "accounts:signup_confirm": "an account confirmation link",
        "accounts:invitation_accept": "an invitation link",
        "accounts:invitation_sso": "an invitation's single sign-on",
        "accounts:password_reset": "the password reset page",
        "accounts:password_reset_done": "the page saying a reset link was sent",
        "accounts:password_reset_confirm": "a password reset link",
        "accounts:password_reset_complete": "the page saying the password was reset",
        "accounts:password_change": "the page to change their password",
        "accounts:reauthenticate": "the page to confirm who they are",
        "accounts:profile": "their profile",
        "accounts:security": "their sign-in and security page",
        "accounts:email_change": "the page to change their email address",
        "accounts:email_change_confirm": "an email change confirmation link",
        "accounts:session_end": "the button to end one of their sessions",
        "accounts:sessions_end_others": "the button to sign out everywhere else",
        "accounts:link": "the page to link a sign-in option",
        "accounts:mfa_setup": "the two-factor set-up page",
        "accounts:mfa_verify": "the two-factor code page",
        "accounts:mfa_step_up": "the page to confirm with a two-factor code",
        "accounts:mfa_disable": "the page to turn off two-factor",
        "accounts:mfa_recovery_codes": "the recovery codes page",
        "accounts:oidc_login": "a single sign-on start",
        "accounts:oidc_callback": "a single sign-on return",
        "saml_login": "a SAML sign-on start",
        "saml_acs": "a SAML sign-on return",
        "saml_finish_acs": "a SAML sign-on return",
        "saml_metadata": "a SAML provider's metadata",
        "saml_sls": "a SAML sign-out",
        "staff:member_list": "the list of staff",
        "staff:member_invite": "the page to invite someone",
        "staff:member_detail": "a member's page",
        "staff:member_role": "the page to change a member's role",
        "staff:member_deactivate": "the form to deactivate a member",
        "staff:member_reactivate": "the form to reactivate a member",
        "staff:member_mfa_reset": "the form to reset a member's two-factor",
        "staff:member_sessions_end": "the form to sign a member out everywhere",
        "staff:member_unlock": "the form to unlock a member's sign-in",
        "staff:member_identity_unlink": "the form to remove a member's sign-in option",
        "staff:invitation_resend": "the form to send an invitation again",
        "staff:invitation_revoke": "the form to withdraw an invitation",
        "staff:signin_settings": "the sign-in settings",
        "staff:provider_new": "the page to add a sign-in option",
        "staff:provider_edit": "the page to change a sign-in option",
        "staff:provider_delete": "the page to remove a sign-in option",
        "staff:provider_test": "the page to test a sign-in option",
        "staff:contact_settings": "the agency's contact details and notices settings",
        "privacy": "the privacy notice",
        "accessibility": "the accessibility statement",
        "set_language": "the language switch",
    }
)
