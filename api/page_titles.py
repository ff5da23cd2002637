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
        "api:requests": "the requests (API)",
        "api:request": "request {number} (API)",
        "api:request_messages": "the messages of request {number} (API)",
        "api:request_timeline": "the timeline of request {number} (API)",
        "api:request_action": "{action} on request {number} (API)",
        "api:request_documents": "the documents of request {number} (API)",
        "api:request_document": "document {document_id} of request {number} (API)",
        "api:request_document_link": "a download link for document {document_id} (API)",
        "api:document_download": "a document download (API)",
        "api:not_found": "an unknown API address",
        "api_tokens:list": "their API tokens",
        "api_tokens:revoke": "revoking API token {token_id}",
        "api_tokens_staff:list": "the agency's API tokens",
        "api_tokens_staff:revoke": "revoking API token {token_id} of the agency",
    }
)
