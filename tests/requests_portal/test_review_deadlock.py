"""A close and an extension of one request at the same moment: they take the request row
and the audit chain's lock in the same order, so they never deadlock."""

from __future__ import annotations

import threading
import time
import uuid
from unittest import mock

import pytest

from accounts.models import Agency, Role
from accounts.tenancy import agency_context
from requests_portal.models import ClosureReason, RecordsRequest
from requests_portal.services import agency_settings, changes, clock, lifecycle, submission
from tests.db_helpers import run_in_committed_thread
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

real_add = changes.add_timeline_event


def slow_add(*args, **kwargs):
    if threading.current_thread().name == "closer":
        time.sleep(0.6)  # between the row UPDATE and the audit write (e.g. a slow insert)
    return real_add(*args, **kwargs)


def test_a_close_and_an_extension_at_once_never_deadlock():
    slug = f"dl-{uuid.uuid4().hex[:10]}"

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
    errors = []

    def closer():
        threading.current_thread().name = "closer"
        with agency_context(agency):
            r = RecordsRequest.objects.get(pk=pk)
            reason = ClosureReason.objects.get(agency=agency, name="No responsive records")
            lifecycle.request_close(records_request=r, actor=user, reason=reason)

    def extender():
        time.sleep(0.2)
        with agency_context(agency):
            r = RecordsRequest.objects.get(pk=pk)
            clock.request_extend(records_request=r, actor=user, days=3, reason="more")

    def wrap(fn):
        try:
            run_in_committed_thread(fn)
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    # The close (services/lifecycle.py) writes its timeline entry slowly.
    with mock.patch.object(lifecycle, "add_timeline_event", slow_add):
        ts = [
            threading.Thread(target=wrap, args=(closer,)),
            threading.Thread(target=wrap, args=(extender,)),
        ]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
    # No deadlock: the extension waits for the close and is refused with a clear message
    # (or, if it got the row first, simply ran before the close).
    assert errors in (
        [],
        ["RequestStateError('A closed request cannot be extended. Reopen it first.')"],
    )
