"""Titles of the API's data endpoints for the audit log's "opened a page" events
(registered from api/apps.py, as each app's audit_events.py registers its pages)."""

from audit.registry import register_page_titles

register_page_titles(
    {
        "api:schema": "the API schema",
        "api:docs": "the API documentation",
        "api:open_requests": "the open-data requests (API)",
        "api:open_request": "request {number} in open data (API)",
        "api:open_documents": "the open-data documents (API)",
        "api:open_requests_csv": "the open-data requests export, CSV (API)",
        "api:open_requests_json": "the open-data requests export, JSON (API)",
        "api:open_documents_csv": "the open-data documents export, CSV (API)",
        "api:open_documents_json": "the open-data documents export, JSON (API)",
        "api:departments": "the departments (API)",
        "api:department": "department {department_id} (API)",
        "api:invoices": "the invoices (API)",
        "api:invoice": "invoice {invoice_id} (API)",
        "api:audit_events": "the audit log (API)",
        "api:audit_event": "event {event_id} of the audit log (API)",
        "api:people": "the staff list (API)",
        "api:person": "member {membership_id} (API)",
        "api:person_deactivate": "deactivating member {membership_id} (API)",
        "api:invitations": "the invitations (API)",
    }
)
