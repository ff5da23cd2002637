"""The REST API under /api/v1/ (issue 14): the web's own policy, access helpers, services and
audit events behind Django REST framework; an OpenAPI 3 schema by drf-spectacular."""
