"""The forms of the Stripe pages: connecting the agency's account, and a refund."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import Payment
from billing.money import AmountError, format_money, parse_cents


class ConnectForm(forms.Form):
    api_key = forms.CharField(
        label=_("Restricted API key"),
        max_length=255,
        strip=True,
        help_text=_(
            "In Stripe: Developers, API keys, Create restricted key. Allow write access to "
            "Checkout Sessions and Refunds and read access to PaymentIntents. It starts with "
            "rk_live_ (rk_test_ in test mode)."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        max_length=255,
        strip=True,
        help_text=_(
            "In Stripe: Developers, Webhooks, Add endpoint, with the address shown on this "
            "page and the events checkout.session.completed, payment_intent.succeeded and "
            "charge.refunded; then reveal its signing secret (whsec_...)."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class RefundForm(forms.Form):
    payment = forms.TypedChoiceField(label=_("Payment"), coerce=int)
    amount = forms.CharField(
        label=_("Amount to give back"),
        max_length=20,
        help_text=_("In dollars and cents, like 12.50. At most what is left of the payment."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args: Any, payments: list[Payment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.payments = {p.pk: p for p in payments}
        choice_field = cast(forms.ChoiceField, self.fields["payment"])
        choice_field.choices = [
            (
                p.pk,
                f"{p.get_method_display()} {format_money(p.amount_cents, p.invoice.currency)}"
                + (
                    f" ({format_money(p.refunded_cents, p.invoice.currency)} given back)"
                    if p.refunded_cents
                    else ""
                ),
            )
            for p in payments
        ]

    def clean_amount(self) -> int:
        try:
            return parse_cents(self.cleaned_data["amount"], allow_zero=False)
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_payment(self) -> Payment:
        return self.payments[self.cleaned_data["payment"]]
