"""Audit event types recorded by the accounts app: sign-in, two-factor, single sign-on,
sessions, invitations and user administration. Details never hold a password, a code or a
token: only what a reviewer needs to reconstruct who did what."""

from audit.registry import register

# --- Sign-in and sign-out ---------------------------------------------------------------------
LOGIN_SUCCEEDED = register("auth.login", "{actor} signed in")
LOGIN_FAILED = register("auth.login_failed", "Failed sign-in attempt for {email}")
LOGIN_REFUSED = register("auth.login_refused", "Sign-in refused for {email}: {reason}")
LOCKED_OUT = register("auth.lockout", "Sign-in locked for {email} after repeated failures")
UNLOCKED = register("auth.unlock", "{actor} unlocked sign-in for {email}")
LOGGED_OUT = register("auth.logout", "{actor} signed out")
REAUTHENTICATED = register("auth.reauthenticated", "{actor} confirmed who they are")
REAUTH_FAILED = register("auth.reauth_failed", "{actor} failed to confirm who they are")

# --- Passwords --------------------------------------------------------------------------------
PASSWORD_RESET_REQUESTED = register(
    "auth.password_reset_requested", "Password reset requested for {email}"
)
PASSWORD_RESET_COMPLETED = register("auth.password_reset_completed", "{actor} reset their password")
PASSWORD_RESET_REFUSED = register(
    "auth.password_reset_refused", "A password reset link was refused ({reason})"
)
PASSWORD_CHANGED = register("auth.password_changed", "{actor} changed their password")
BREACH_CHECK_UNAVAILABLE = register(
    "auth.breach_check_unavailable",
    "The breached-password check could not answer ({reason}); the password was {outcome}",
)

# --- Sign-up ----------------------------------------------------------------------------------
SIGNUP_REQUESTED = register("auth.signup_requested", "Account requested for {email}")
SIGNUP_COMPLETED = register("auth.signup_completed", "{actor} created an account")
SIGNUP_REFUSED = register(
    "auth.signup_refused", "An account confirmation link was refused ({reason})"
)

# --- Two-factor -------------------------------------------------------------------------------
MFA_ENROLLED = register("mfa.enrolled", "{actor} turned on two-factor sign-in")
MFA_VERIFIED = register("mfa.verified", "{actor} passed two-factor sign-in ({method})")
MFA_FAILED = register("mfa.failed", "{actor} entered a wrong two-factor code ({method})")
MFA_SECRET_UNREADABLE = register(
    "mfa.secret_unreadable",
    "The authenticator secret of {actor} could not be opened ({reason}): every code fails",
)
MFA_RECOVERY_CODES_CREATED = register(
    "mfa.recovery_codes_created", "{actor} made new recovery codes"
)
MFA_DISABLED = register("mfa.disabled", "{actor} turned off two-factor sign-in")
MFA_RESET = register("mfa.reset", "{actor} reset two-factor sign-in for {email}")

# --- Single sign-on ---------------------------------------------------------------------------
SSO_LOGIN = register("sso.login", "{actor} signed in with {provider}")
SSO_FAILED = register("sso.failed", "Sign-in with {provider} failed: {reason}")
SSO_LINKED = register("sso.linked", "{actor} linked their {provider} sign-in")
SSO_UNLINKED = register("sso.unlinked", "{actor} removed the {provider} sign-in of {email}")
SSO_PROVISIONED = register("sso.provisioned", "{actor} was given an account by {provider}")
SSO_ROLE_SYNCED = register(
    "sso.role_synced", "{provider} changed {actor}'s role from {old_role} to {new_role}"
)
PROVIDER_CREATED = register("sso.provider_created", "{actor} added the sign-in option {name}")
PROVIDER_UPDATED = register("sso.provider_updated", "{actor} changed the sign-in option {name}")
PROVIDER_DELETED = register("sso.provider_deleted", "{actor} removed the sign-in option {name}")
PROVIDER_TESTED = register("sso.provider_tested", "{actor} tested the sign-in option {name}")
SIGNIN_POLICY_CHANGED = register(
    "agency.signin_policy_changed", "{actor} changed the sign-in policy"
)

# --- Sessions ---------------------------------------------------------------------------------
SESSION_ENDED = register("session.ended", "{actor} ended a session of {email}")
SESSIONS_ENDED = register("session.ended_all", "{actor} ended {count} session(s) of {email}")
SESSION_EXPIRED = register("session.expired", "{actor} was signed out ({reason})")

# --- Users, invitations, account details ------------------------------------------------------
USER_INVITED = register("users.invited", "{actor} invited {email} as {role}")
INVITATION_RESENT = register(
    "users.invitation_resent", "{actor} sent the invitation to {email} again"
)
INVITATION_REVOKED = register(
    "users.invitation_revoked", "{actor} withdrew the invitation to {email}"
)
INVITATION_ACCEPTED = register("users.invitation_accepted", "{actor} joined as {role}")
INVITATION_REFUSED = register(
    "users.invitation_refused", "An invitation link was refused ({reason})"
)
ROLE_CHANGED = register("users.role_changed", "{actor} changed {email}'s role from {old} to {new}")
USER_DEACTIVATED = register("users.deactivated", "{actor} deactivated {email}")
USER_REACTIVATED = register("users.reactivated", "{actor} reactivated {email}")
EMAIL_CHANGE_REQUESTED = register(
    "account.email_change_requested", "{actor} asked to change their email address"
)
EMAIL_CHANGED = register("account.email_changed", "{actor} changed their email address")
NAME_CHANGED = register("account.name_changed", "{actor} changed their name")
LANGUAGE_CHANGED = register("account.language_changed", "{actor} chose the language {language}")

PAGE_VIEWED = register("page.view", "{actor} opened {view} ({status})")
