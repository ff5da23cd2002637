"""The transactional outbox: a task asked for inside a transaction is written down in it, sent
after the commit, and kept for the relay when the broker cannot be reached; the page answers
normally either way. Against a real redis-server (the broker), stopped for the outage."""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts import jobs
from accounts.outbox import relay
from accounts.outbox.models import OutboxMessage
from config import jobs_settings
from config.celery import app
from tests.db_helpers import run_in_committed_thread
from tests.jobs.redis_server import queued, reset_broker_connections

pytestmark = pytest.mark.django_db

INVITE = reverse("staff:member_invite")


@app.task(name="tests.jobs.noted")
def noted(*, agency_id: int | None, note: str) -> str:
    return note


def outbox_rows() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.order_by("pk"))


def test_in_eager_mode_the_row_is_written_then_deleted_once_the_task_ran(
    django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs.send_email(agency_id=None, subject="Hello", body="Body", to=["a@example.org"])
    (row,) = outbox_rows()
    assert (row.task_name, row.kwargs["to"], row.countdown) == (
        "accounts.tasks.send_email",
        ["a@example.org"],
        None,
    )
    assert mailoutbox == []

    (job,) = callbacks
    job()

    assert [m.subject for m in mailoutbox] == ["Hello"]
    assert outbox_rows() == []


def test_a_rolled_back_transaction_leaves_no_row_and_sends_nothing(broker_on_redis):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("tests.jobs.noted", agency_id=None, note="never")
        raise RuntimeError

    assert outbox_rows() == []
    assert relay.relay(grace=timedelta(0)) == 0
    assert queued(broker_on_redis, "default") == []


def test_with_the_broker_up_the_task_is_sent_after_commit_and_its_row_deleted(
    broker_on_redis, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        jobs.enqueue("tests.jobs.noted", agency_id=None, note="sent at once")

    (message,) = queued(broker_on_redis, "default")
    assert message["task"] == "tests.jobs.noted"
    assert message["kwargs"] == {"agency_id": None, "note": "sent at once"}
    assert outbox_rows() == []


def test_a_staff_action_with_the_broker_down_answers_normally_and_keeps_its_email(
    tenant, client_for, broker_on_redis, django_capture_on_commit_callbacks, caplog, mailoutbox
):
    broker_on_redis.stop()
    caplog.set_level(logging.WARNING, logger="portal.jobs")
    admin = client_for(tenant.admin, tenant.host)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(INVITE, {"email": "nadia.quell@example.org", "role": "staff"})
    took = time.monotonic() - started

    assert response.status_code == 302
    (row,) = outbox_rows()
    assert row.task_name == "accounts.tasks.send_email"
    assert row.kwargs["to"] == ["nadia.quell@example.org"]
    (warning,) = [r for r in caplog.records if r.name == "portal.jobs"]
    assert warning.fields["event"] == "outbox_kept"
    assert warning.fields["outbox_ids"] == [row.pk]
    assert "nadia.quell" not in warning.getMessage() + repr(warning.fields)
    assert took < 5, f"the action took {took:.2f} s with the broker down"
    print(f"a staff action with the broker down took {took:.2f} s")

    # The relay, once Redis is back, sends it and deletes the row.
    broker_on_redis.start()
    assert relay.relay(grace=timedelta(0)) == 1
    assert outbox_rows() == []
    (message,) = queued(broker_on_redis, "notifications")
    assert message["task"] == "accounts.tasks.send_email"
    assert message["kwargs"]["to"] == ["nadia.quell@example.org"]

    # A worker taking that message sends the invitation.
    current_app.tasks[message["task"]].apply(kwargs=message["kwargs"]).get()
    assert [m.to for m in mailoutbox] == [["nadia.quell@example.org"]]


def test_a_broker_that_never_answers_costs_an_action_seconds_and_keeps_the_task(
    tenant, client_for, silent_redis, django_capture_on_commit_callbacks
):
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=silent_redis.replace("/1", "/0"),
        task_always_eager=False,
        broker_transport_options=jobs_settings.broker_transport_options(),
    )
    reset_broker_connections()
    try:
        admin = client_for(tenant.admin, tenant.host)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = admin.post(INVITE, {"email": "ona.slow@example.org", "role": "staff"})
        took = time.monotonic() - started
    finally:
        reset_broker_connections()
        app.conf.update(saved)

    assert response.status_code == 302
    assert [row.kwargs["to"] for row in outbox_rows()] == [["ona.slow@example.org"]]
    print(f"a staff action against a silent broker took {took:.2f} s")
    assert took < 15, f"the action took {took:.2f} s against a silent broker"


def test_the_relay_leaves_young_rows_to_their_own_process(broker_on_redis):
    jobs.enqueue("tests.jobs.noted", agency_id=None, note="young")

    assert relay.relay() == 0
    assert len(outbox_rows()) == 1
    assert queued(broker_on_redis, "default") == []


def test_the_relay_keeps_the_rows_while_the_broker_is_down(broker_on_redis, caplog):
    jobs.enqueue("tests.jobs.noted", agency_id=None, note="waiting")
    broker_on_redis.stop()

    assert relay.relay(grace=timedelta(0)) == 0
    assert len(outbox_rows()) == 1


def test_a_delayed_task_keeps_its_time_and_a_grant_its_header(broker_on_redis):
    jobs.enqueue("tests.jobs.noted", agency_id=None, note="later", countdown=3600)
    OutboxMessage.objects.update(
        created_at=timezone.now() - timedelta(minutes=10), headers={"acting_as_grant": 7}
    )

    assert relay.relay() == 1

    (message,) = queued(broker_on_redis, "default")
    assert message["headers"]["acting_as_grant"] == 7
    eta = timezone.datetime.fromisoformat(message["headers"]["eta"])
    left = (eta - timezone.now()).total_seconds()
    assert 3000 - 60 < left < 3000 + 60


def test_the_relay_command_sends_what_is_waiting(broker_on_redis, capsys):
    jobs.enqueue("tests.jobs.noted", agency_id=None, note="by command")

    call_command("relay_outbox", "--all")

    assert "Sent 1 task(s); 0 still waiting." in capsys.readouterr().out
    assert [m["kwargs"]["note"] for m in queued(broker_on_redis, "default")] == ["by command"]


def test_two_relays_at_once_send_every_row_exactly_once(broker_on_redis, monkeypatch):
    notes = [f"row {n}" for n in range(40)]

    def write_rows() -> list[int]:
        old = timezone.now() - timedelta(minutes=5)
        return [
            OutboxMessage.objects.create(
                task_name="tests.jobs.noted",
                kwargs={"agency_id": None, "note": note},
                created_at=old,
            ).pk
            for note in notes
        ]

    ids = run_in_committed_thread(write_rows)
    real_publish = relay.publish

    def slow_publish(*args, **kwargs) -> None:
        time.sleep(0.01)  # the relays overlap: each holds its batch while it sends
        real_publish(*args, **kwargs)

    monkeypatch.setattr(relay, "publish", slow_publish)
    counts: list[int] = []
    start = threading.Barrier(2)

    def one_relay() -> None:
        try:
            start.wait(timeout=10)
            counts.append(relay.relay(batch=5))
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=one_relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        sent = [m["kwargs"]["note"] for m in queued(broker_on_redis, "default")]
        assert sorted(sent) == sorted(notes)  # every row once, none twice
        assert sum(counts) == 40 and all(counts), counts  # both relays took a share
        assert not OutboxMessage.objects.filter(pk__in=ids).exists()
    finally:
        run_in_committed_thread(lambda: OutboxMessage.objects.filter(pk__in=ids).delete())


def test_the_relay_runs_every_minute_on_the_maintenance_queue():
    from django.conf import settings

    (entry,) = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "accounts.outbox.tasks.relay_outbox"
    ]
    assert entry["schedule"] == 60.0
    route = app.amqp.router.route({}, "accounts.outbox.tasks.relay_outbox")
    assert route["queue"].name == "maintenance"
