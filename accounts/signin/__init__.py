"""Signing in, and staying signed in: everything between "who are you?" and a session.

- ``flow``: the one path every first factor (password, LDAP, OIDC, SAML) takes to a session;
  recent authentication and account proof.
- ``mfa``: TOTP devices, recovery codes, the session's second-factor state, the agency's
  two-factor policy.
- ``sessions``: ``UserSession`` tracking, idle and absolute limits, ending sessions.
- ``lockout``: django-axes choices (lockout key, progressive cool-off, lockout page, unlock).
- ``forms``, ``views``, ``mfa_views``: the sign-in, password-reset, re-authentication and
  two-factor pages.

The password and single sign-on backends stay where sessions name them
(``accounts.backends``, ``accounts.sso.ldap``): a session stores its backend's dotted path.
"""
