"""Open data (issue 14): an agency's published requests and its released documents' metadata,
public and cache-friendly, and bulk exports as CSV and JSON.

What is public is decided by the archive's own access helpers
(``requests_portal.access.public_requests``, ``documents.access.public_documents``); what is
shown of each is a fixed list of fields (``records.py``) that holds nothing about the
requester: no name, email, phone, address, account, tracking link or message."""
