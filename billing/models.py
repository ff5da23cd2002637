"""Fees and invoices. Money is integer cents in the agency's one currency, everywhere: no
float and no Decimal ever holds an amount. The portal never sees a card: payment happens on
Stripe's hosted Checkout page, and only Stripe's ids, amounts and states are stored here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Role, TenantOwned
from requests_portal.models import RecordsRequest, TimeEntry

# The largest amount one invoice, line or payment may carry: $100,000.00. Larger figures
# are a typo (or an attack), never a public-records fee.
MAX_AMOUNT_CENTS = 10_000_000
# Currencies an agency may bill in (ISO 4217, lower case as Stripe writes them).
CURRENCIES = [("usd", "US dollar (USD)"), ("cad", "Canadian dollar (CAD)")]


class StripeAccount(TenantOwned):
    """The agency's own Stripe account: a restricted key (``rk_...``) and the signing secret
    of the webhook endpoint the agency created for the portal, both sealed (vault.keyring)
    and bound to this agency. ``account_id`` is what Stripe answered when the key was tried,
    so an event naming another account is refused."""

    account_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    livemode = models.BooleanField(default=False)
    sealed_api_key = models.BinaryField()
    sealed_webhook_secret = models.BinaryField()
    connected_at = models.DateTimeField(default=timezone.now)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency"], name="stripe_account_one_per_agency"),
            models.UniqueConstraint(fields=["account_id"], name="stripe_account_unique_id"),
        ]

    def secret_aad(self, what: str) -> str:
        return f"stripe-{what}:{self.agency_id}"


class FeeSchedule(TenantOwned):
    """What the agency charges, and its rules for the clock and release."""

    currency = models.CharField(max_length=3, choices=CURRENCIES, default="usd")
    paper_page_cents = models.PositiveIntegerField(default=0)
    electronic_page_cents = models.PositiveIntegerField(default=0)
    free_pages = models.PositiveIntegerField(default=0)
    default_hourly_cents = models.PositiveIntegerField(default=0)
    free_minutes = models.PositiveIntegerField(default=0)
    # Below this total no invoice is sent (the cost of collecting exceeds the fee).
    minimum_invoice_cents = models.PositiveIntegerField(default=0)
    # The share due before work starts, in basis points (2500 = 25 %); 0 = no deposit.
    default_deposit_bps = models.PositiveIntegerField(default=0)
    pause_clock_when_sent = models.BooleanField(default=True)
    hold_release_until_paid = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency"], name="fee_schedule_one_per_agency"),
            models.CheckConstraint(
                condition=Q(default_deposit_bps__lte=10_000), name="fee_schedule_deposit_bps"
            ),
        ]


class FeeItem(TenantOwned):
    """A named fee an invoice line can pick: media (a USB drive, a DVD) or a fixed fee."""

    class Kind(models.TextChoices):
        MEDIA = "media", "Media (per item)"
        FIXED = "fixed", "Fixed fee"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    unit_cents = models.PositiveIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="fee_item_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class StaffRate(TenantOwned):
    """An hourly rate for one person, or for everyone holding a role. A person's own rate
    wins over their role's; with neither, the schedule's default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    hourly_cents = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(role=""))
                | (Q(user__isnull=True) & ~Q(role="")),
                name="staff_rate_user_xor_role",
            ),
            models.UniqueConstraint(
                fields=["agency", "user"],
                condition=Q(user__isnull=False),
                name="staff_rate_unique_user",
            ),
            models.UniqueConstraint(
                fields=["agency", "role"], condition=~Q(role=""), name="staff_rate_unique_role"
            ),
        ]


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("invoice status", "Draft")
    SENT = "sent", pgettext_lazy("invoice status", "Sent")
    PARTIALLY_PAID = "partially_paid", pgettext_lazy("invoice status", "Deposit paid")
    PAID = "paid", pgettext_lazy("invoice status", "Paid")
    VOID = "void", pgettext_lazy("invoice status", "Void")
    REFUNDED = "refunded", pgettext_lazy("invoice status", "Refunded")


# An invoice is "active" while it is a draft or still owed: one at a time per request.
ACTIVE_STATUSES = (InvoiceStatus.DRAFT, InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)
# How far each state is along the way: a late or repeated webhook never moves an invoice back.
STATUS_RANK = {
    InvoiceStatus.DRAFT: 0,
    InvoiceStatus.SENT: 1,
    InvoiceStatus.PARTIALLY_PAID: 2,
    InvoiceStatus.PAID: 3,
    InvoiceStatus.VOID: 4,
    InvoiceStatus.REFUNDED: 4,
}


class Invoice(TenantOwned):
    request = models.ForeignKey(RecordsRequest, on_delete=models.PROTECT, related_name="+")
    # Per agency and year, like request numbers: INV-2026-0007.
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    currency = models.CharField(max_length=3, choices=CURRENCIES)
    # Totals are kept by the services from the lines, never typed in.
    subtotal_cents = models.IntegerField(default=0)
    waived_cents = models.PositiveIntegerField(default=0)
    waiver_reason = models.TextField(blank=True, max_length=1000)
    total_cents = models.PositiveIntegerField(default=0)
    deposit_cents = models.PositiveIntegerField(default=0)
    paid_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True, max_length=2000, help_text="Shown to the requester")
    # Whether sending this invoice paused the request's clock (so payment resumes it).
    paused_clock = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "sequence"], name="invoice_unique_number"
            ),
            # One active invoice at a time per request (void and re-issue to change one).
            models.UniqueConstraint(
                fields=["agency", "request"],
                condition=Q(status__in=["draft", "sent", "partially_paid"]),
                name="invoice_one_active_per_request",
            ),
            models.CheckConstraint(
                condition=Q(total_cents__lte=MAX_AMOUNT_CENTS), name="invoice_total_bounded"
            ),
            models.CheckConstraint(
                condition=Q(deposit_cents__lte=models.F("total_cents")),
                name="invoice_deposit_within_total",
            ),
            models.CheckConstraint(
                condition=Q(paid_cents__lte=models.F("total_cents")),
                name="invoice_paid_within_total",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("paid_cents")),
                name="invoice_refund_within_paid",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "request"], name="invoice_request"),
            models.Index(fields=["agency", "status", "sent_at"], name="invoice_status_sent"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"INV-{self.year}-{self.sequence:04d}"

    @property
    def balance_cents(self) -> int:
        """What is still owed (0 once paid, void or refunded)."""
        if self.status not in (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID):
            return 0
        return self.total_cents - self.paid_cents

    @property
    def due_now_cents(self) -> int:
        """What the requester pays next: the deposit first, when one is asked and not paid."""
        if self.status == InvoiceStatus.SENT and self.deposit_cents > self.paid_cents:
            return self.deposit_cents - self.paid_cents
        return self.balance_cents


class InvoiceCounter(TenantOwned):
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "year"], name="invoice_counter_unique")
        ]


class LineKind(models.TextChoices):
    PAGES_PAPER = "pages_paper", "Paper copies (per page)"
    PAGES_ELECTRONIC = "pages_electronic", "Electronic pages (per page)"
    MEDIA = "media", "Media"
    FIXED = "fixed", "Fixed fee"
    STAFF_TIME = "staff_time", "Staff time"
    CUSTOM = "custom", "Other (quantity times unit price)"
    PERCENT = "percent", "Percentage of the lines above"
    DISCOUNT = "discount", "Discount"


class InvoiceLine(TenantOwned):
    """One line. ``amount_cents`` is computed by the services: quantity times unit for most
    kinds, ``percent_bps`` of the lines above for a percentage (rounded half up), negative
    for a discount. Staff time keeps minutes as its quantity and the person's hourly rate
    as its unit, and names the time entries it billed so none is billed twice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices)
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    unit_cents = models.PositiveIntegerField(default=0)
    percent_bps = models.PositiveIntegerField(default=0)
    # How much of ``quantity`` the schedule's free pages or minutes covered (set with the
    # amount by the services), so the invoice can say why the amount is less than
    # quantity times unit.
    free_quantity = models.PositiveIntegerField(default=0)
    amount_cents = models.IntegerField()
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    time_entries = models.ManyToManyField(
        TimeEntry, through="BilledTime", blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gte=-MAX_AMOUNT_CENTS)
                & Q(amount_cents__lte=MAX_AMOUNT_CENTS),
                name="invoice_line_amount_bounded",
            ),
        ]


class BilledTime(TenantOwned):
    """Which time entry a staff-time line billed. An entry on a line of an invoice that is
    not void is not offered again."""

    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="+")
    time_entry = models.ForeignKey(TimeEntry, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "time_entry"], name="billed_time_unique")
        ]


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card (Stripe)")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class Payment(TenantOwned):
    """Money received: from Stripe (a Checkout session and its PaymentIntent) or recorded by
    staff (a cheque or cash, with a reference). A Checkout session becomes a payment once,
    whatever the webhooks repeat."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    amount_cents = models.PositiveIntegerField()
    refunded_cents = models.PositiveIntegerField(default=0)
    is_deposit = models.BooleanField(default=False)
    reference = models.CharField(max_length=120, blank=True)
    stripe_checkout_session = models.CharField(max_length=255, blank=True)
    stripe_payment_intent = models.CharField(max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_payment_intent"],
                condition=~Q(stripe_payment_intent=""),
                name="payment_unique_intent",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0) & Q(amount_cents__lte=MAX_AMOUNT_CENTS),
                name="payment_amount_bounded",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=models.F("amount_cents")),
                name="payment_refund_within_amount",
            ),
        ]


class CheckoutAttempt(TenantOwned):
    """A Stripe Checkout session the portal opened for an invoice. A second click on "pay"
    while one is open reuses it, so a double click never charges twice."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="+")
    session_id = models.CharField(max_length=255)
    amount_cents = models.PositiveIntegerField()
    is_deposit = models.BooleanField(default=False)
    url = models.URLField(max_length=2000)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session_id"], name="checkout_unique_session")
        ]


class Refund(TenantOwned):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_cents = models.PositiveIntegerField()
    reason = models.CharField(max_length=300)
    stripe_refund = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, default="succeeded")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_refund"], condition=~Q(stripe_refund=""), name="refund_unique_id"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_positive"),
        ]


class WebhookEvent(TenantOwned):
    """Each Stripe event once: its id is unique, so a repeated delivery is a no-op. The
    payload is what Stripe signed; it is processed by a task, idempotently."""

    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    account_id = models.CharField(max_length=64)
    # Stripe's own creation time of the event (its "created"), for ordering decisions.
    created = models.DateTimeField()
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id"], name="webhook_event_unique")]
        indexes = [models.Index(fields=["agency", "processed_at"], name="webhook_unprocessed")]


__all__ = [
    "ACTIVE_STATUSES",
    "CURRENCIES",
    "MAX_AMOUNT_CENTS",
    "STATUS_RANK",
    "BilledTime",
    "CheckoutAttempt",
    "FeeItem",
    "FeeSchedule",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "InvoiceStatus",
    "LineKind",
    "Payment",
    "PaymentMethod",
    "Refund",
    "StaffRate",
    "StripeAccount",
    "WebhookEvent",
]
