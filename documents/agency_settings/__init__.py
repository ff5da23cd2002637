"""The agency admin's documents settings page: upload size limits, requester uploads, and
the list of redaction reasons."""
