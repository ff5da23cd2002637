"""Writes of agency admins: request settings, holidays, closure reasons, departments and
their members, response templates, request types, custom form questions; and the working
defaults a new agency starts with. Each change is one transaction with its audit event."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.db import transaction
from django.http import HttpRequest

import audit
from accounts.local_time import agency_today
from accounts.models import Agency, User
from requests_portal import audit_events, deadlines
from requests_portal.models import (
    ClosureReason,
    CustomField,
    Department,
    DepartmentMember,
    Holiday,
    RequestSettings,
    RequestType,
    ResponseTemplate,
)
from requests_portal.services.clock import settings_for


def _record(
    agency: Agency,
    actor: User,
    what: str,
    *,
    http_request: HttpRequest | None = None,
    **details: object,
) -> None:
    audit.record(
        audit_events.SETTINGS_CHANGED.code,
        http_request=http_request,
        agency=agency,
        actor=actor,
        details={"what": what, **details},
    )


def request_settings_update(
    *,
    request_settings: RequestSettings,
    actor: User,
    changes: Mapping[str, object],
    http_request: HttpRequest | None = None,
) -> None:
    changed = {
        field: (str(getattr(request_settings, field)), str(value))
        for field, value in changes.items()
        if getattr(request_settings, field) != value
    }
    if not changed:
        return
    with transaction.atomic():
        for field, value in changes.items():
            setattr(request_settings, field, value)
        request_settings.save()
        _record(
            request_settings.agency,
            actor,
            "request_settings",
            http_request=http_request,
            changed=changed,
        )


def holiday_add(
    *,
    agency: Agency,
    actor: User,
    day: datetime.date,
    name: str,
    http_request: HttpRequest | None = None,
) -> Holiday:
    with transaction.atomic():
        holiday, _ = Holiday.objects.update_or_create(
            agency=agency, date=day, defaults={"name": name}
        )
        _record(
            agency,
            actor,
            "holiday_added",
            http_request=http_request,
            date=day.isoformat(),
            name=name,
        )
    return holiday


def holiday_remove(
    *, holiday: Holiday, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        day, name = holiday.date.isoformat(), holiday.name
        holiday.delete()
        _record(
            holiday.agency, actor, "holiday_removed", http_request=http_request, date=day, name=name
        )


def closure_reason_add(
    *,
    agency: Agency,
    actor: User,
    name: str,
    requires_citation: bool,
    http_request: HttpRequest | None = None,
) -> ClosureReason:
    with transaction.atomic():
        reason, _ = ClosureReason.objects.update_or_create(
            agency=agency,
            name=name,
            defaults={"requires_citation": requires_citation, "is_active": True},
        )
        _record(agency, actor, "closure_reason_added", http_request=http_request, name=name)
    return reason


def closure_reason_set_active(
    *, reason: ClosureReason, actor: User, active: bool, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        reason.is_active = active
        reason.save(update_fields=["is_active"])
        _record(
            reason.agency,
            actor,
            "closure_reason_active",
            http_request=http_request,
            name=reason.name,
            active=active,
        )


def department_save(
    *,
    agency: Agency,
    actor: User,
    name: str,
    default_visibility: str,
    department: Department | None = None,
    http_request: HttpRequest | None = None,
) -> Department:
    with transaction.atomic():
        if department is None:
            department = Department.objects.create(
                agency=agency, name=name, default_visibility=default_visibility
            )
            _record(agency, actor, "department_created", http_request=http_request, name=name)
        else:
            old = department.name
            department.name = name
            department.default_visibility = default_visibility
            department.save(update_fields=["name", "default_visibility"])
            _record(
                agency, actor, "department_changed", http_request=http_request, name=name, was=old
            )
    return department


def department_member_set(
    *,
    department: Department,
    actor: User,
    user: User,
    member: bool,
    point_of_contact: bool = False,
    http_request: HttpRequest | None = None,
) -> None:
    agency = department.agency
    with transaction.atomic():
        if member:
            link, _ = DepartmentMember.objects.get_or_create(
                agency=agency, department=department, user=user
            )
            if point_of_contact:
                # One point of contact per department.
                DepartmentMember.objects.filter(agency=agency, department=department).exclude(
                    pk=link.pk
                ).update(is_point_of_contact=False)
            if link.is_point_of_contact != point_of_contact:
                link.is_point_of_contact = point_of_contact
                link.save(update_fields=["is_point_of_contact"])
        else:
            DepartmentMember.objects.filter(
                agency=agency, department=department, user=user
            ).delete()
        _record(
            agency,
            actor,
            "department_member",
            http_request=http_request,
            department=department.name,
            user=user.pk,
            member=member,
            point_of_contact=point_of_contact,
        )


def template_save(
    *,
    agency: Agency,
    actor: User,
    kind: str,
    name: str,
    body: str,
    template: ResponseTemplate | None = None,
    http_request: HttpRequest | None = None,
) -> ResponseTemplate:
    with transaction.atomic():
        if template is None:
            # The same kind and name again replaces the text (no duplicate-name error).
            template, _ = ResponseTemplate.objects.update_or_create(
                agency=agency, kind=kind, name=name, defaults={"body": body}
            )
        else:
            template.kind, template.name, template.body = kind, name, body
            template.save(update_fields=["kind", "name", "body"])
        _record(agency, actor, "template_saved", http_request=http_request, name=name, kind=kind)
    return template


def template_delete(
    *, template: ResponseTemplate, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        name = template.name
        template.delete()
        _record(template.agency, actor, "template_deleted", http_request=http_request, name=name)


def request_type_save(
    *,
    agency: Agency,
    actor: User,
    name: str,
    response_days: int,
    response_method: str,
    http_request: HttpRequest | None = None,
) -> RequestType:
    with transaction.atomic():
        request_type, _ = RequestType.objects.update_or_create(
            agency=agency,
            name=name,
            defaults={
                "response_days": response_days,
                "response_method": response_method,
                "is_active": True,
            },
        )
        _record(
            agency,
            actor,
            "request_type_saved",
            http_request=http_request,
            name=name,
            days=response_days,
            method=response_method,
        )
    return request_type


def request_type_set_active(
    *, request_type: RequestType, actor: User, active: bool, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        request_type.is_active = active
        request_type.save(update_fields=["is_active"])
        _record(
            request_type.agency,
            actor,
            "request_type_active",
            http_request=http_request,
            name=request_type.name,
            active=active,
        )


def custom_field_add(
    *,
    agency: Agency,
    actor: User,
    label: str,
    kind: str,
    choices: str,
    required: bool,
    http_request: HttpRequest | None = None,
) -> CustomField:
    with transaction.atomic():
        order = CustomField.objects.filter(agency=agency).count()
        field = CustomField.objects.create(
            agency=agency, label=label, kind=kind, choices=choices, required=required, order=order
        )
        _record(
            agency, actor, "custom_field_added", http_request=http_request, label=label, kind=kind
        )
    return field


def custom_field_set_active(
    *, field: CustomField, actor: User, active: bool, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        field.is_active = active
        field.save(update_fields=["is_active"])
        _record(
            field.agency,
            actor,
            "custom_field_active",
            http_request=http_request,
            label=field.label,
            active=active,
        )


# --- A new agency's defaults ---------------------------------------------------------------


def holidays_load_defaults(
    *,
    agency: Agency,
    years: list[int],
    actor: User | None = None,
    http_request: HttpRequest | None = None,
) -> int:
    """Add the US federal (and the agency's state) holidays for these years; keeps edits."""
    request_settings = settings_for(agency)
    defaults = deadlines.default_holidays(years, state=request_settings.state or None)
    existing = set(Holiday.objects.filter(agency=agency).values_list("date", flat=True))
    new = [
        Holiday(agency=agency, date=day, name=name[:120])
        for day, name in sorted(defaults.items())
        if day not in existing
    ]
    with transaction.atomic():
        Holiday.objects.bulk_create(new)
        if new and actor is not None:
            audit.record(
                audit_events.SETTINGS_CHANGED.code,
                http_request=http_request,
                agency=agency,
                actor=actor,
                details={"holidays_added": len(new), "years": years},
            )
    return len(new)


DEFAULT_CLOSURE_REASONS = [
    ("Records released in full", False),
    ("Records released in part (some withheld)", True),
    ("No responsive records", False),
    ("Withdrawn by the requester", False),
    ("Denied: an exemption applies", True),
    ("Referred to another agency", False),
]


def agency_setup_defaults(
    *, agency: Agency, state: str = "", years: list[int] | None = None
) -> None:
    """Give a new agency working defaults: deadline settings, closure reasons, holidays.
    Safe to run again: it adds only what is missing."""
    with transaction.atomic():
        request_settings = settings_for(agency)
        if state and not request_settings.state:
            request_settings.state = state
            request_settings.save(update_fields=["state"])
        for name, requires_citation in DEFAULT_CLOSURE_REASONS:
            ClosureReason.objects.get_or_create(
                agency=agency, name=name, defaults={"requires_citation": requires_citation}
            )
        this_year = agency_today(agency).year
        holidays_load_defaults(agency=agency, years=years or [this_year, this_year + 1])
