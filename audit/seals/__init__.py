"""Seals of the audit chains, kept outside the database.

A seal is an Ed25519 signature (``AUDIT_SEAL_PRIVATE_KEY``, which the database never holds)
over one chain's head: the agency, the newest event's id and hash, how many events the chain
holds, when it was sealed, and the hash of the chain's previous seal. Seals are written to a
store the database cannot reach (``store``): an S3 bucket with Object Lock in production, a
folder of write-once files in development. ``audit_verify`` recomputes every chain and checks
it against every seal, so a rewrite by whoever holds the database (even its superuser) is
found at the first sealed position it changed, and a removed seal breaks the seals' own chain.

- ``format``: the seal document, its canonical bytes, signing and checking.
- ``store``: the write-once stores.
- ``services``: sealing every chain (``seal_chains``) and checking them (``verify_chains``).
"""
