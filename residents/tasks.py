from celery import Task, shared_task

from residents.services import exports


# Hard limit under the broker's visibility timeout (less a minute), so a late acknowledgement
# never hands a running export to a second worker (tests/jobs/test_worker_recovery.py).
@shared_task(base=Task, acks_late=True, soft_time_limit=1560, time_limit=1680)
def build_export(*, agency_id=None, export_id: int) -> None:
    """Build one person's data export (residents.jobs.build_export). A plain Celery task, not
    a TenantTask: it reads each agency in that agency's own context, one after another, and
    writes its progress in short transactions the status page sees at once."""
    exports.export_build(export_id=export_id)


@shared_task
def expire_exports(*, agency_id=None) -> int:
    """Beat, hourly: delete the data exports past their time."""
    return exports.exports_expire()
