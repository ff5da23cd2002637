"""The Stripe side of billing's URLs (included by billing/urls.py, namespace "billing")."""

from django.urls import path

from billing.views import connect, payment, webhook

stripe_urlpatterns = [
    path("staff/billing/stripe/", connect.stripe_connect, name="stripe_connect"),
    path("staff/billing/stripe/disconnect/", connect.stripe_disconnect, name="stripe_disconnect"),
    path("billing/stripe/webhook/", webhook.stripe_webhook, name="stripe_webhook"),
    path("invoices/<int:invoice_id>/pay/", payment.invoice_pay, name="invoice_pay"),
    path("invoices/<int:invoice_id>/pay/done/", payment.pay_return, name="pay_return"),
    path("invoices/<int:invoice_id>/pay/cancelled/", payment.pay_cancel, name="pay_cancel"),
    path(
        "staff/billing/invoices/<int:invoice_id>/refund/",
        payment.invoice_refund,
        name="invoice_refund",
    ),
]
