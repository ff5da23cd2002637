"""Writes of the accounts app, each in one transaction with its audit event (HackSoft style:
``<entity>_<action>(*, keyword, only)``; the HTTP request, where a service needs it, is
``http_request=``). Email leaves after commit. Import the module you need:

- ``invitations``: invite, resend, withdraw, accept (with an existing or a new account).
- ``members``: roles, deactivation, ending a member's sessions, unlock, two-factor reset.
- ``signin_policy``: the agency's sign-in policy.
- ``agency_contact``: the agency's public contact details, privacy notice and accessibility
  statement.
- ``providers``: sign-in options (identity providers): save, remove, record a settings test.
- ``identities``: which account an external identity signs in to; links and their removal.
- ``own_account``: a person's own password, name, email address and sessions.
- ``two_factor``: a person's own two-factor (codes, enrolment, recovery codes, turning it
  off) and platform support's reset.
- ``signup``: resident sign-up.
- ``errors``: ``ServiceError`` (a rule refused the change) and ``ServiceFieldError``.
"""
