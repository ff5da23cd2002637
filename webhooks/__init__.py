"""Outgoing webhooks: an agency's own systems hear of its requests, documents and invoices
(docs/webhooks.md)."""
