"""Celery: JSON only, late acks, enqueued on commit, and every task inside its agency."""

import pytest

from accounts.tenancy import current_db_tenant
from config.celery import app


@app.task(name="tests.report_tenant")
def report_tenant(*, agency_id: int) -> int | None:
    return current_db_tenant()


def test_celery_speaks_json_only_and_acknowledges_late():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


@pytest.mark.django_db
def test_a_task_runs_inside_its_agency_context(tenant):
    assert report_tenant.apply(kwargs={"agency_id": tenant.agency.pk}).get() == tenant.agency.pk
    assert current_db_tenant() is None  # and the context ends with the task


@pytest.mark.django_db
def test_a_task_without_agency_id_fails_loudly():
    with pytest.raises(TypeError, match="agency_id"):
        report_tenant.apply(kwargs={}).get()


@pytest.mark.django_db
def test_tasks_are_enqueued_only_when_the_transaction_commits(
    tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report_tenant.delay_on_commit(agency_id=tenant.agency.pk)
    assert len(callbacks) == 1


def test_email_goes_to_the_notifications_queue():
    from config.celery import app as celery_app

    route = celery_app.amqp.router.route({}, "accounts.tasks.send_email")
    assert route["queue"].name == "notifications"
