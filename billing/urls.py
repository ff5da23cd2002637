"""Billing URLs, namespace "billing" (config/urls.py includes them at the root of an agency's
host). Staff pages live under /staff/billing/, the requester's invoice under /invoices/."""

from billing.stripe_urls import stripe_urlpatterns

urlpatterns: list = [*stripe_urlpatterns]
