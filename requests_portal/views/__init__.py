"""The requests app's pages, one module per audience: residents (``resident``), the public
archive (``archive``), staff departments (``departments``), the staff queue (``queue``),
the staff request page and intake (``staff_request``) and its POST actions (``actions``).
Agency admins' pages are in requests_portal/admin_views.py. Thin: forms validate, access
helpers read, services write."""
