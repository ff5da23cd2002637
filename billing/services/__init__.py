"""Every write of the billing app: one transaction each, with its audit event inside it and,
for an invoice, its request's timeline entry; emails queued on commit.

- ``common``: what every invoice change shares (the request row locked first, then the
  invoice; the clock and hold effects; amount checks);
- ``fees``: the agency's fee schedule, fee items and hourly rates;
- ``invoices``: drafts, lines, staff time from the time log, deposit, waiver, sending and
  voiding;
- ``payments``: payments (Stripe or offline) and refunds, recorded once each;
- ``reports``: the audit event of a fee report download.
"""
