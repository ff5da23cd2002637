"""The Celery application. Tasks default to accounts.tenancy.TenantTask: each one runs in a
transaction with its agency's row-level-security context set, and must be given agency_id."""

import os

from celery import Celery

from config.structured_logs import connect_task_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal", task_cls="accounts.tenancy:TenantTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# One JSON log line per task, and the worker logs through settings.LOGGING.
connect_task_logging()
