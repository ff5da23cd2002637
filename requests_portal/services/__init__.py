"""Every write of the requests app: one transaction each, with its audit event inside it
(and, for a request, its timeline entry); side effects (email) queued on commit.

One module per job; callers import the module they need:

- ``changes``: what every change to one request shares (row lock, open-state check,
  timeline entry, first-response mark, RequestStateError);
- ``submission``: filing a request and numbering it;
- ``clock``: the agency's deadline settings and calendar; pausing, resuming, extending and
  rescheduling a request;
- ``lifecycle``: acknowledging, routing, closing, reopening, visibility, embargo publication;
- ``messaging``: messages on a request and the emails to its requester;
- ``work``: staff work on a request (tasks, tags, time) and template placeholders;
- ``agency_settings``: agency admins' writes (settings, holidays, closure reasons,
  departments, templates, request types, custom fields) and a new agency's defaults;
- ``preferences``: a staff member's own email choices.

All services are keyword-only and take the acting user (``actor``, None for the public) and
optionally the HTTP request (``http_request``) so the audit event carries IP and request id.
The caller must already be inside the agency's row-level-security context (every web request
and task is).
"""
