"""The outgoing webhooks' settings (webhooks/, docs/webhooks.md), imported by name into
config/settings.py.

- ``WEBHOOKS_ALLOW_LOOPBACK_TARGETS`` (derived, not read from the environment): on outside
  production, so development and the tests' local receivers may use http:// and loopback
  addresses; production sends to public https:// addresses only (private, link-local and the
  other internal networks are refused everywhere: webhooks/targets.py).
- ``WEBHOOKS_CA_FILE``: receivers' certificates are checked against the public CAs
  (certifi), or only against this PEM file's when it is set.
"""

from __future__ import annotations

from config.env import env_choice, env_str

# The same reading of PORTAL_ENV as config/settings.py's IS_PRODUCTION.
_PRODUCTION = env_choice("PORTAL_ENV", ("development", "production"), "development") == (
    "production"
)
WEBHOOKS_ALLOW_LOOPBACK_TARGETS = not _PRODUCTION
WEBHOOKS_CA_FILE = env_str("WEBHOOKS_CA_FILE", "") or ""
