"""Billing: invoices, fees, Stripe Checkout and webhooks (a later issue)."""
