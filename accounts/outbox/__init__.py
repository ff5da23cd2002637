"""The transactional outbox: background work asked for inside a transaction is written down in
that same transaction, so no committed work loses its task when the broker is away
(accounts.jobs writes the rows; accounts.outbox.relay sends them).

A small Django app of its own (label ``outbox``) inside the accounts package: its one table is
platform plumbing, not tenant data, and accounts/models.py is kept for the tenant model.
"""
