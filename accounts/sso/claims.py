"""What every single sign-on protocol (OIDC, SAML, LDAP) hands the portal: the person as the
provider describes them, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Claims:
    """What a provider said about the person, normalised across protocols."""

    subject: str
    email: str = ""
    email_verified: bool = False
    name: str = ""
    groups: list[str] = field(default_factory=list)


class SsoRefused(Exception):
    """Sign-in through the provider succeeded but the portal will not sign this person in.
    ``reason`` goes to the audit log; ``message`` to the person (plain, non-revealing)."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message
