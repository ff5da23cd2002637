"""The forms of the billing pages. Amounts are typed as dollars and cents ("12.50") and
become integer cents here (billing.money: no float); what is wrong shows as the field's
error, never a server error. Choices that come from the agency's rows (its fees, its staff)
are handed in by the view, which read them through billing.access."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from billing.models import CURRENCIES, FeeItem, LineKind, PaymentMethod
from billing.money import AmountError, format_input, parse_cents, parse_percent_bps
from billing.services.invoices import MAX_QUANTITY, TYPED_KINDS
from billing.services.sending import OFFLINE_METHODS


class AmountField(forms.CharField):
    """Dollars and cents typed as text ("12.50") → integer cents."""

    def __init__(self, *, allow_zero: bool = True, **kwargs: Any) -> None:
        self.allow_zero = allow_zero
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return format_input(value)
        return value

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_cents(text, allow_zero=self.allow_zero)
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None


class PercentField(forms.CharField):
    """A percentage typed as text ("12.5") → basis points (1250)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            whole, rest = divmod(value, 100)
            return f"{whole}.{rest:02d}".rstrip("0").rstrip(".")
        return value

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_percent_bps(text)
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None


def _count(label: Any, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=MAX_QUANTITY, **kwargs)


class FeeScheduleForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    paper_page_cents = AmountField(label=_("Paper copy, per page"), required=False)
    electronic_page_cents = AmountField(label=_("Electronic page, per page"), required=False)
    free_pages = _count(_("Free pages per invoice"), initial=0)
    default_hourly_cents = AmountField(
        label=_("Default hourly rate for staff time"), required=False
    )
    free_minutes = _count(_("Free minutes of staff time per invoice"), initial=0)
    minimum_invoice_cents = AmountField(
        label=_("Minimum invoice"),
        required=False,
        help_text=_("No invoice is sent for a total below this."),
    )
    default_deposit_bps = PercentField(
        label=_("Default deposit (per cent of the total)"),
        required=False,
        help_text=_("The share due before work starts; 0 for none."),
    )
    pause_clock_when_sent = forms.BooleanField(
        label=_("Pause the request's clock while an invoice is unpaid"), required=False
    )
    hold_release_until_paid = forms.BooleanField(
        label=_("Hold the records until the invoice is paid"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in (
            "paper_page_cents",
            "electronic_page_cents",
            "default_hourly_cents",
            "minimum_invoice_cents",
            "default_deposit_bps",
        ):
            if data.get(name) is None and name not in self.errors:
                data[name] = 0
        return data


class FeeItemForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=FeeItem.Kind.choices)
    unit_cents = AmountField(label=_("Price"))


class StaffRateForm(forms.Form):
    """A person's rate, or a role's: the people are the agency's staff, handed in."""

    person = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    role = forms.ChoiceField(label=_("Or everyone with the role"), required=False)
    hourly_cents = AmountField(label=_("Hourly rate"))

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["person"]).choices = [("", "—"), *people]
        cast(forms.ChoiceField, self.fields["role"]).choices = [("", "—"), *Role.choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("person")) == bool(data.get("role")):
            raise forms.ValidationError(_("Choose either a person or a role."))
        return data


class InvoiceLineForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[(k.value, k.label) for k in LineKind if k in TYPED_KINDS]
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.IntegerField(
        label=_("Quantity (pages, items)"), min_value=1, max_value=MAX_QUANTITY, initial=1
    )
    unit_cents = AmountField(
        label=_("Unit price or amount"),
        required=False,
        help_text=_("For pages, leave empty to use the schedule's rate."),
    )
    percent_bps = PercentField(label=_("Percentage"), required=False)
    fee_item = forms.TypedChoiceField(label=_("Fee"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, fee_items: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["fee_item"]).choices = [("", "—"), *fee_items]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == LineKind.MEDIA and not data.get("fee_item"):
            self.add_error("fee_item", _("Choose the media fee."))
        elif kind == LineKind.FIXED and not data.get("fee_item") and data.get("unit_cents") is None:
            self.add_error("unit_cents", _("Choose a fixed fee or type its amount."))
        elif kind in (LineKind.CUSTOM, LineKind.DISCOUNT) and not data.get("unit_cents"):
            self.add_error("unit_cents", _("Type the amount."))
        elif kind == LineKind.PERCENT and not data.get("percent_bps"):
            self.add_error("percent_bps", _("Type the percentage."))
        if kind in (LineKind.CUSTOM, LineKind.DISCOUNT) and not data.get("description"):
            self.add_error("description", _("Describe the line."))
        return data


class DepositForm(forms.Form):
    deposit_cents = AmountField(label=_("Deposit due before work starts"))


class WaiverForm(forms.Form):
    waived_cents = AmountField(label=_("Amount waived"))
    reason = forms.CharField(
        label=_("Reason for the waiver"), max_length=1000, required=False, widget=forms.Textarea
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("waived_cents") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for the waiver."))
        return data


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the requester"), max_length=2000, required=False, widget=forms.Textarea
    )


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Why void this invoice?"), max_length=300)


class OfflinePaymentForm(forms.Form):
    amount_cents = AmountField(label=_("Amount received"), allow_zero=False)
    method = forms.ChoiceField(
        label=_("How"),
        choices=[(m.value, m.label) for m in PaymentMethod if m in OFFLINE_METHODS],
    )
    reference = forms.CharField(
        label=_("Cheque number or reference"), max_length=120, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("method") in (PaymentMethod.CHEQUE, PaymentMethod.OTHER)
            and not (data.get("reference") or "").strip()
        ):
            self.add_error("reference", _("Give the cheque number or the payment's reference."))
        return data
