"""Celery: JSON only, late acks, enqueued on commit, and every task inside its agency."""

import pytest

import audit
from accounts.jobs import enqueue
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


SEEN_GRANTS: list[int | None] = []


@app.task(name="tests.record_under_grant")
def record_under_grant(*, agency_id: int) -> None:
    SEEN_GRANTS.append(audit.current_grant(agency_id))


@pytest.mark.django_db
def test_work_asked_for_under_support_access_runs_under_the_same_grant(
    tenant, other_tenant, django_capture_on_commit_callbacks
):
    """A support operator's action that enqueues a task: the task's events carry the grant
    too, whether sent through a jobs module or delay_on_commit, and only on that agency."""
    agency_id = tenant.agency.pk
    SEEN_GRANTS.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with audit.acting_as_grant(77, agency_id=agency_id):
            enqueue("tests.record_under_grant", agency_id=agency_id)
            record_under_grant.delay_on_commit(agency_id=agency_id)
            record_under_grant.delay_on_commit(agency_id=other_tenant.agency.pk)
        enqueue("tests.record_under_grant", agency_id=agency_id)
    # The callbacks run after the support block ended, as they do at commit.
    for callback in callbacks:
        callback()
    assert SEEN_GRANTS == [77, 77, None, None]
    record_under_grant.apply(kwargs={"agency_id": agency_id})
    assert SEEN_GRANTS[-1] is None
