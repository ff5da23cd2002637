"""accounts.jobs: how services ask for background work without importing tasks."""

import pytest
from celery import current_app

from accounts import jobs

pytestmark = pytest.mark.django_db


def test_a_job_is_sent_only_when_the_transaction_commits(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.send_email(agency_id=None, subject="Hello", body="Body", to=["a@example.org"])
    assert mailoutbox == []
    (job,) = callbacks
    assert job.task_name == "accounts.tasks.send_email"
    assert job.kwargs["to"] == ["a@example.org"]
    job()
    assert [m.subject for m in mailoutbox] == ["Hello"]


def test_a_misspelt_task_name_fails_at_once_inside_the_caller(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(KeyError, match=r"accounts\.tasks\.send_mail"),
    ):
        jobs.enqueue("accounts.tasks.send_mail", to=[])
    assert callbacks == []


def test_every_app_registers_its_tasks_at_start_up():
    """Services name tasks; apps.py imports each tasks module so the names exist in every
    process (web included), not only in the worker."""
    names = set(current_app.tasks)
    for name in (
        "accounts.tasks.send_email",
        "requests_portal.tasks.send_agency_digest",
        "documents.tasks.scan_document",
        "documents.tasks.apply_redactions",
    ):
        assert name in names
