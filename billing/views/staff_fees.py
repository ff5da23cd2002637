"""The agency admin's fee settings: the schedule, the fee items (media, fixed fees) and the
hourly rates per person or per role. One page; each list's add form posts to its own URL
and, when refused, the page comes back with that form's errors (400)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from billing import access
from billing.errors import BillingError
from billing.forms import FeeItemForm, FeeScheduleForm, StaffRateForm
from billing.money import format_money
from billing.services import fees
from billing.views.common import StaffRequest


def _people(request: StaffRequest) -> list[tuple[int, str]]:
    return [
        (person.pk, person.full_name or person.email)
        for person in access.agency_staff(request.user, request.agency)
    ]


def _schedule_initial(request: StaffRequest) -> dict[str, Any]:
    schedule = access.fee_schedule(request.agency)
    return {field: getattr(schedule, field) for field in fees.Schedule.__dataclass_fields__}


def _page(request: StaffRequest, status: int = 200, **forms: Any) -> HttpResponse:
    schedule = access.fee_schedule(request.agency)
    rates = [
        {
            "rate": rate,
            "who": (rate.user.full_name or rate.user.email)
            if rate.user is not None
            else gettext("Everyone with the role %(role)s") % {"role": rate.get_role_display()},
            "hourly": format_money(rate.hourly_cents, schedule.currency),
        }
        for rate in access.staff_rates_for(request.user, request.agency)
    ]
    items = [
        {"item": item, "price": format_money(item.unit_cents, schedule.currency)}
        for item in access.fee_items_for(request.user, request.agency)
    ]
    context = {
        "schedule_form": forms.get("schedule_form")
        or FeeScheduleForm(initial=_schedule_initial(request)),
        "item_form": forms.get("item_form") or FeeItemForm(),
        "rate_form": forms.get("rate_form") or StaffRateForm(people=_people(request)),
        "items": items,
        "rates": rates,
    }
    return render(request, "billing/staff_fees.html", context, status=status)


def _back() -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("billing:fee_schedule"))


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.BILLING_SETTINGS)
def fee_schedule(request: StaffRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    form = FeeScheduleForm(request.POST)
    if form.is_valid():
        try:
            fees.fee_schedule_save(
                agency=request.agency,
                actor=request.user,
                values=fees.Schedule(**form.cleaned_data),
                http_request=request,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Fee schedule saved."))
            return _back()
    return _page(request, 400, schedule_form=form)


@require_POST
@agency_permission(policy.BILLING_SETTINGS)
@once_per_form
def fee_item_new(request: StaffRequest) -> HttpResponse:
    form = FeeItemForm(request.POST)
    if form.is_valid():
        try:
            fees.fee_item_add(
                agency=request.agency, actor=request.user, http_request=request, **form.cleaned_data
            )
        except BillingError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, gettext("Fee added."))
            return _back()
    return _page(request, 400, item_form=form)


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.BILLING_SETTINGS)
def fee_item_edit(request: StaffRequest, item_id: int) -> HttpResponse:
    item = access.fee_item_for(request.user, request.agency, item_id)
    if request.method == "POST":
        form = FeeItemForm(request.POST)
        if form.is_valid():
            try:
                fees.fee_item_change(
                    item=item, actor=request.user, http_request=request, **form.cleaned_data
                )
            except BillingError as error:
                form.add_error("name", str(error))
            else:
                messages.success(request, gettext("Fee saved."))
                return _back()
    else:
        form = FeeItemForm(
            initial={"name": item.name, "kind": item.kind, "unit_cents": item.unit_cents}
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "billing/staff_fee_item.html", {"form": form, "item": item}, status=status
    )


@require_POST
@agency_permission(policy.BILLING_SETTINGS)
def fee_item_toggle(request: StaffRequest, item_id: int) -> HttpResponse:
    item = access.fee_item_for(request.user, request.agency, item_id)
    fees.fee_item_set_active(
        item=item, actor=request.user, active=not item.is_active, http_request=request
    )
    if item.is_active:
        messages.success(request, gettext("“%(name)s” is offered again.") % {"name": item.name})
    else:
        messages.success(request, gettext("“%(name)s” is no longer offered.") % {"name": item.name})
    return _back()


@require_POST
@agency_permission(policy.BILLING_SETTINGS)
def staff_rate_new(request: StaffRequest) -> HttpResponse:
    form = StaffRateForm(request.POST, people=_people(request))
    if form.is_valid():
        data = form.cleaned_data
        person = (
            access.staff_member_for(request.user, request.agency, data["person"])
            if data.get("person")
            else None
        )
        try:
            fees.staff_rate_set(
                agency=request.agency,
                actor=request.user,
                hourly_cents=data["hourly_cents"],
                person=person,
                role=data.get("role") or "",
                http_request=request,
            )
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, gettext("Hourly rate saved."))
            return _back()
    return _page(request, 400, rate_form=form)


@require_POST
@agency_permission(policy.BILLING_SETTINGS)
def staff_rate_remove(request: StaffRequest, rate_id: int) -> HttpResponse:
    rate = access.staff_rate_for(request.user, request.agency, rate_id)
    fees.staff_rate_remove(rate=rate, actor=request.user, http_request=request)
    messages.success(request, gettext("Hourly rate removed."))
    return _back()
