"""The agency's fees, as its admins set them: the schedule (currency, page rates, free pages
and minutes, default hourly rate, minimum invoice, default deposit, the clock and hold
rules), the fee items an invoice line may pick (media, fixed fees), and hourly rates per
person or per role. Every amount is integer cents; each change is audited."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.http import HttpRequest

import audit
from accounts.models import Agency, Membership, Role, User
from billing import audit_events
from billing.errors import BillingError
from billing.models import CURRENCIES, FeeItem, FeeSchedule, Invoice, StaffRate
from billing.services.common import check_amount

_CURRENCIES = {code for code, _ in CURRENCIES}


@dataclass(frozen=True)
class Schedule:
    """What the schedule form sends (amounts in cents, the deposit in basis points)."""

    currency: str = "usd"
    paper_page_cents: int = 0
    electronic_page_cents: int = 0
    free_pages: int = 0
    default_hourly_cents: int = 0
    free_minutes: int = 0
    minimum_invoice_cents: int = 0
    default_deposit_bps: int = 0
    pause_clock_when_sent: bool = True
    hold_release_until_paid: bool = True


_COUNT_LIMIT = 1_000_000


def _check_count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _COUNT_LIMIT:
        raise BillingError(f"{what} must be a whole number from 0 to {_COUNT_LIMIT:,}.")
    return value


def fee_schedule_save(
    *, agency: Agency, actor: User, values: Schedule, http_request: HttpRequest | None = None
) -> FeeSchedule:
    if values.currency not in _CURRENCIES:
        raise BillingError("Choose one of the currencies offered.")
    amounts = {
        "paper_page_cents": check_amount(
            values.paper_page_cents, "The paper page rate", allow_zero=True
        ),
        "electronic_page_cents": check_amount(
            values.electronic_page_cents, "The electronic page rate", allow_zero=True
        ),
        "default_hourly_cents": check_amount(
            values.default_hourly_cents, "The hourly rate", allow_zero=True
        ),
        "minimum_invoice_cents": check_amount(
            values.minimum_invoice_cents, "The minimum invoice", allow_zero=True
        ),
    }
    counts = {
        "free_pages": _check_count(values.free_pages, "The free pages"),
        "free_minutes": _check_count(values.free_minutes, "The free minutes"),
    }
    bps = values.default_deposit_bps
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= 10_000:
        raise BillingError("The deposit must be from 0 to 100 %.")
    with transaction.atomic():
        schedule = FeeSchedule.objects.select_for_update().filter(agency=agency).first()
        if schedule is None:
            schedule = FeeSchedule(agency=agency)
        if (
            schedule.pk is not None
            and values.currency != schedule.currency
            and Invoice.objects.filter(agency=agency).exists()
        ):
            raise BillingError(
                "The currency cannot change once invoices were issued in it (one currency "
                "per agency)."
            )
        before = {field: getattr(schedule, field) for field in Schedule.__dataclass_fields__}
        schedule.currency = values.currency
        for field, value in {**amounts, **counts}.items():
            setattr(schedule, field, value)
        schedule.default_deposit_bps = bps
        schedule.pause_clock_when_sent = bool(values.pause_clock_when_sent)
        schedule.hold_release_until_paid = bool(values.hold_release_until_paid)
        schedule.save()
        after = {field: getattr(schedule, field) for field in Schedule.__dataclass_fields__}
        changed = sorted(field for field in after if after[field] != before[field])
        audit.record_for(
            audit_events.FEES_CHANGED,
            schedule,
            actor=actor,
            http_request=http_request,
            what="schedule",
            changed=changed,
            **{field: after[field] for field in changed},
        )
    return schedule


def _check_item(name: str, kind: str, unit_cents: int) -> tuple[str, str, int]:
    name = (name or "").strip()[:120]
    if not name:
        raise BillingError("Name the fee.")
    if kind not in FeeItem.Kind.values:
        raise BillingError("Choose whether the fee is for media or a fixed fee.")
    return name, kind, check_amount(unit_cents, "The fee", allow_zero=True)


def _item_audit(item: FeeItem, actor: User, what: str, http_request: HttpRequest | None) -> None:
    audit.record_for(
        audit_events.FEES_CHANGED,
        item,
        actor=actor,
        http_request=http_request,
        what=what,
        name=item.name,
        kind=item.kind,
        unit_cents=item.unit_cents,
    )


def _name_taken() -> BillingError:
    return BillingError("Another fee already has that name.")


def fee_item_add(
    *,
    agency: Agency,
    actor: User,
    name: str,
    kind: str,
    unit_cents: int,
    http_request: HttpRequest | None = None,
) -> FeeItem:
    name, kind, unit_cents = _check_item(name, kind, unit_cents)
    with transaction.atomic():
        if FeeItem.objects.filter(agency=agency, name__iexact=name).exists():
            raise _name_taken()
        try:
            with transaction.atomic():
                item = FeeItem.objects.create(
                    agency=agency, name=name, kind=kind, unit_cents=unit_cents
                )
        except IntegrityError:
            raise _name_taken() from None
        _item_audit(item, actor, "item_added", http_request)
    return item


def fee_item_change(
    *,
    item: FeeItem,
    actor: User,
    name: str,
    kind: str,
    unit_cents: int,
    http_request: HttpRequest | None = None,
) -> FeeItem:
    """Change a fee (lines already on invoices keep the price they were given)."""
    name, kind, unit_cents = _check_item(name, kind, unit_cents)
    with transaction.atomic():
        if (
            FeeItem.objects.filter(agency=item.agency_id, name__iexact=name)
            .exclude(pk=item.pk)
            .exists()
        ):
            raise _name_taken()
        item.name, item.kind, item.unit_cents = name, kind, unit_cents
        item.save()
        _item_audit(item, actor, "item_changed", http_request)
    return item


def fee_item_set_active(
    *, item: FeeItem, actor: User, active: bool, http_request: HttpRequest | None = None
) -> FeeItem:
    """Stop offering a fee (or offer it again); invoices that used it keep their lines."""
    with transaction.atomic():
        if item.is_active == active:
            return item
        item.is_active = active
        item.save(update_fields=["is_active"])
        _item_audit(item, actor, "item_reactivated" if active else "item_deactivated", http_request)
    return item


def staff_rate_set(
    *,
    agency: Agency,
    actor: User,
    hourly_cents: int,
    person: User | None = None,
    role: str = "",
    http_request: HttpRequest | None = None,
) -> StaffRate:
    """The hourly rate of one staff member, or of everyone holding a role (a person's own
    rate wins over their role's). Setting it again replaces it."""
    hourly_cents = check_amount(hourly_cents, "The hourly rate", allow_zero=True)
    if (person is None) == (not role):
        raise BillingError("Choose either a person or a role.")
    if role and role not in Role.values:
        raise BillingError("Choose one of the roles.")
    if (
        person is not None
        and not Membership.objects.filter(agency=agency, user=person, is_active=True).exists()
    ):
        raise BillingError("Choose a member of the agency's staff.")
    with transaction.atomic():
        lookup = {"user": person} if person is not None else {"role": role, "user": None}
        rate = StaffRate.objects.select_for_update().filter(agency=agency, **lookup).first()
        if rate is None:
            rate = StaffRate(agency=agency, user=person, role=role if person is None else "")
        rate.hourly_cents = hourly_cents
        rate.save()
        audit.record_for(
            audit_events.FEES_CHANGED,
            rate,
            actor=actor,
            http_request=http_request,
            what="rate_set",
            who=_rate_owner(rate),
            hourly_cents=hourly_cents,
        )
    return rate


def _rate_owner(rate: StaffRate) -> str:
    if rate.user is not None:
        return rate.user.full_name or rate.user.email
    return f"every {Role(rate.role).label.lower()}"


def staff_rate_remove(
    *, rate: StaffRate, actor: User, http_request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        who = _rate_owner(rate)
        audit.record_for(
            audit_events.FEES_CHANGED,
            rate,
            actor=actor,
            http_request=http_request,
            what="rate_removed",
            who=who,
        )
        rate.delete()
