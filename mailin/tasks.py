from celery import Task, shared_task

from accounts.tenancy import for_each_active_agency
from mailin import access
from mailin.services import mailbox


@shared_task
def poll_mailboxes(*, agency_id=None) -> int:
    """Beat, every five minutes: one poll_mailbox per active agency."""
    return for_each_active_agency(poll_mailbox)


# A plain Celery task, not a TenantTask: each email is accepted or refused in its own
# transaction (in its agency's context) and only then marked read on the server, so one
# transaction around the whole poll would mark emails read that a later failure rolled back.
@shared_task(base=Task, soft_time_limit=240, time_limit=280)
def poll_mailbox(*, agency_id: int) -> dict:
    agency = access.active_agency(agency_id)
    if agency is None:
        return {"accepted": 0, "rejected": 0, "error": "inactive"}
    result = mailbox.mailbox_poll(agency=agency)
    return {"accepted": result.accepted, "rejected": result.rejected, "error": result.error}
