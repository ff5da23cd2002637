"""Who will read a request, told to the requester before they send it, and the personal-data
check of what would be public.

- ``initial_visibility``: the visibility a new request starts with (the one rule the form's
  notice and the submission service share): restricted when the requester asked for privacy
  and the agency allows it, else the chosen department's default, else the agency's.
- ``audience``: that visibility in plain words, for the request form and staff intake.
- ``personal_data_kinds``: the kinds of personal data (``requests_portal.pii``) in a title
  and description; a request that would be public and holds any is kept from the public
  until staff review it (``RecordsRequest.description_held``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext, ngettext

from requests_portal import pii
from requests_portal.models import Department, RequestSettings, Visibility

# The visibilities under which the public reads a request, now or once its embargo ends.
PUBLIC_VISIBILITIES = frozenset({Visibility.PUBLISHED, Visibility.EMBARGOED})

KIND_LABELS = {
    pii.SSN: "a Social Security number",
    pii.CARD: "a payment card number",
    pii.EMAIL: "an email address",
    pii.PHONE: "a phone number",
    pii.BIRTH_DATE: "a date of birth",
}


def is_public(visibility: str) -> bool:
    return visibility in PUBLIC_VISIBILITIES


def initial_visibility(
    request_settings: RequestSettings, department: Department | None, *, private: bool = False
) -> str:
    if private and request_settings.allow_private_requests:
        return Visibility.RESTRICTED
    if department is not None and department.default_visibility:
        return department.default_visibility
    return request_settings.default_visibility


def audience(visibility: str, embargo_days: int) -> str:
    """Who will read a request of this visibility, as its requester needs to know it (in the
    active language)."""
    if visibility == Visibility.PUBLISHED:
        return gettext(
            "Your request, including its summary and description, will be published on this "
            "site's public archive as soon as you send it: anyone can read it."
        )
    if visibility == Visibility.EMBARGOED:
        if embargo_days == 0:
            when = gettext("once it is closed")
        else:
            when = ngettext(
                "%(days)d day after it is closed", "%(days)d days after it is closed", embargo_days
            ) % {"days": embargo_days}
        return gettext(
            "Your request, including its summary and description, will be published on this "
            "site's public archive %(when)s: then anyone can read it. Until then, only you and "
            "agency staff can read it."
        ) % {"when": when}
    if visibility == Visibility.DEPARTMENT:
        return gettext(
            "Only you and the staff of the department handling it can read this request. "
            "It is not published."
        )
    if visibility == Visibility.RESTRICTED:
        return gettext(
            "Only you, the staff member handling it and the agency's administrators can read "
            "this request. It is not published."
        )
    return gettext("Only you and agency staff can read this request. It is not published.")


@dataclass(frozen=True)
class DepartmentAudience:
    department: str
    sentence: str


@dataclass(frozen=True)
class FormAudience:
    """What the request form says about who will read the request."""

    default: str  # the agency's default (no department chosen, or one without its own)
    by_department: list[DepartmentAudience]  # departments whose requests differ from it
    may_be_public: bool  # with some choice, the request would be public
    embargo_days: int


def form_audience(
    request_settings: RequestSettings, departments: Iterable[Department] | None
) -> FormAudience:
    """The notice of the request form. ``departments``: those the form lets the requester
    choose (None without a department picker: the agency's default then always applies).
    Request types carry only a deadline rule, never a visibility, so they change nothing."""
    days = request_settings.embargo_days
    default_visibility = initial_visibility(request_settings, None)
    by_department = []
    visibilities = {default_visibility}
    for department in departments or ():
        visibility = initial_visibility(request_settings, department)
        visibilities.add(visibility)
        if visibility != default_visibility:
            by_department.append(DepartmentAudience(department.name, audience(visibility, days)))
    return FormAudience(
        default=audience(default_visibility, days),
        by_department=by_department,
        may_be_public=any(is_public(v) for v in visibilities),
        embargo_days=days,
    )


def personal_data_kinds(*texts: str) -> list[str]:
    """The kinds of personal data found in ``texts``, sorted (the values are not kept)."""
    return sorted({match.kind for text in texts for match in pii.find(text)})


def kinds_label(kinds: Iterable[str]) -> str:
    """'a Social Security number and a phone number'."""
    labels = [KIND_LABELS.get(kind, kind) for kind in kinds]
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]
