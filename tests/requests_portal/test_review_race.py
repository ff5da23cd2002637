"""A close and a pause racing on one request: the second waits for the first, sees the
closed request and is refused with a clear state error; the request stays consistent."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from requests_portal.models import ClosureReason, RecordsRequest
from requests_portal.services import agency_settings, changes, clock, lifecycle, submission
from tests.db_helpers import run_in_committed_thread
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def test_a_pause_racing_a_close_is_refused_and_the_request_stays_closed():
    slug = f"race-{uuid.uuid4().hex[:10]}"

    def setup():
        agency = Agency.objects.create(slug=slug, name=slug, is_active=False)
        with agency_context(agency):
            agency_settings.agency_setup_defaults(agency=agency, state="CA")
            user = UserFactory()
            MembershipFactory(agency=agency, user=user, role=Role.PUBLISHER)
            r = submission.request_submit(
                agency=agency,
                actor=None,
                title="t",
                description="d",
                contact=submission.Contact(name="x"),
                channel="web",
            )
        return agency, user, r.pk

    agency, user, pk = run_in_committed_thread(setup)
    b_loaded = threading.Event()
    errors = []

    def closer():
        with agency_context(agency):
            r = RecordsRequest.objects.get(pk=pk)
            b_loaded.wait(10)
            reason = ClosureReason.objects.get(agency=agency, name="No responsive records")
            lifecycle.request_close(records_request=r, actor=user, reason=reason)
            time.sleep(1.0)  # the web request still rendering its redirect

    def pauser():
        with agency_context(agency):
            r = RecordsRequest.objects.get(pk=pk)
            b_loaded.set()
            time.sleep(0.3)
            clock.request_pause(records_request=r, actor=user, reason="fees")

    def wrap(fn):
        try:
            run_in_committed_thread(fn)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(f,)) for f in (closer, pauser)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    def read():
        with agency_context(agency):
            return RecordsRequest.objects.filter(pk=pk).values(
                "status", "closed_at", "closure_reason", "remaining_days"
            )[0]

    state = run_in_committed_thread(read)
    # Whichever ran first, the other saw its result: either the pause is refused (close
    # first) or the close ends the pause (pause first). Never a paused, closed request.
    assert all(isinstance(e, changes.RequestStateError) for e in errors), errors
    assert [str(e) for e in errors] in (
        [],
        ["A closed request cannot be paused. Reopen it first."],
    )
    assert state["status"] == "closed" and state["remaining_days"] is None, state
