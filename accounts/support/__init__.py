"""Support access: a platform operator's time-limited, reasoned, audited way into one agency.

- ``services``: ask, approve, deny, start in an emergency (break-glass), end or revoke, and
  the bookkeeping of a grant's first use and its expiry.
- ``access``: the grants an agency's admins (or the operator) may see, and a grant's life.
- ``middleware``: marks every request made under a live grant, so each audit event recorded
  in it carries the grant's id (``audit.acting_as_grant``).
- ``views``, ``urls``, ``forms``: the operator's pages (``/accounts/support-access/``) and the
  admins' (``/staff/support-access/``).

The grant itself is ``accounts.models.SupportGrant``; ``accounts.policy.membership_for`` turns a
live one into a support membership with the granted role, so every permission check and
access helper treats the operator exactly as that role, and stops at the expiry.
"""
