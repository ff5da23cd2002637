"""How the public reaches an agency: its published phone number (checked, and turned into a
``tel:`` link), email, address and office hours, as the footer, the privacy and
accessibility pages and the "too many attempts" messages show them.

The details live on ``Agency`` (set by ``services.agency_contact``); this module only reads
them, so it sits below the models and imports nothing of the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# What people type: digits and the usual separators, an optional leading "+", and an
# optional extension ("ext. 12", "x12"). 7 to 15 digits: a local number to a full E.164 one.
_MAIN = re.compile(r"\+?[0-9 ().\-]+", re.ASCII)
_EXTENSION = re.compile(
    r"\s*(?:ext\.?|extension|x)\s*(?P<ext>[0-9]{1,6})$", re.ASCII | re.IGNORECASE
)


def _split(phone: str) -> tuple[str, str] | None:
    """(main digits with a leading "+" if given, extension digits) or None if malformed."""
    text = phone.strip()
    extension = _EXTENSION.search(text)
    main = text[: extension.start()] if extension else text
    if not _MAIN.fullmatch(main):
        return None
    digits = re.sub(r"[^0-9]", "", main)
    if not 7 <= len(digits) <= 15:
        return None
    plus = "+" if main.startswith("+") else ""
    return plus + digits, extension["ext"] if extension else ""


def validate_public_phone(value: str) -> None:
    if value and _split(value) is None:
        raise ValidationError(
            "Enter a phone number of 7 to 15 digits, such as (312) 555-0100 or "
            "+1 312 555 0100 (an extension may follow as “ext. 12”).",
            code="invalid_phone",
        )


def phone_uri(phone: str) -> str:
    """The ``tel:`` link of a valid number (RFC 3966), or "" for none or a malformed one."""
    parts = _split(phone) if phone else None
    if parts is None:
        return ""
    number, extension = parts
    return f"tel:{number}" + (f";ext={extension}" if extension else "")


def email_uri(email: str) -> str:
    """The ``mailto:`` link of an address (RFC 6068), "" for none. Percent-encoded: an
    address may quote its local part (``"a?bcc=x"@example.gov`` is a valid address), and a
    bare "?", "&" or "%" would otherwise add headers (bcc, body) to the message a resident
    writes."""
    return f"mailto:{quote(email, safe='@')}" if email else ""


@dataclass(frozen=True)
class AgencyContact:
    """What the public is shown about reaching the agency (every part optional)."""

    name: str
    phone: str
    phone_uri: str
    email: str
    email_uri: str
    address: str
    hours: str

    @property
    def reachable(self) -> bool:
        """True when there is a way to reach the agency: a phone number or an email."""
        return bool(self.phone or self.email)

    @property
    def any(self) -> bool:
        return bool(self.phone or self.email or self.address or self.hours)


def contact_of(agency) -> AgencyContact:
    return AgencyContact(
        name=agency.name,
        phone=agency.contact_phone,
        phone_uri=phone_uri(agency.contact_phone),
        email=agency.contact_email,
        email_uri=email_uri(agency.contact_email),
        address=agency.contact_address,
        hours=agency.office_hours,
    )


def reach_sentence(agency) -> str:
    """One plain sentence naming the agency's phone and email, for messages shown as text
    (a form's error summary); "" when the agency has published neither."""
    if agency is None:
        return ""
    contact = contact_of(agency)
    values = {"agency": contact.name, "phone": contact.phone, "email": contact.email}
    if contact.phone and contact.email:
        return (
            _("You can also contact %(agency)s by phone at %(phone)s or by email at %(email)s.")
            % values
        )
    if contact.phone:
        return _("You can also contact %(agency)s by phone at %(phone)s.") % values
    if contact.email:
        return _("You can also contact %(agency)s by email at %(email)s.") % values
    return ""
