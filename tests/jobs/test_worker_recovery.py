"""A task whose worker is SIGKILLed mid-run runs again, once, as soon as Redis's visibility
timeout has passed: a real ``celery -A config worker`` on a private Redis whose visibility
timeout is a few seconds for the test (CELERY_VISIBILITY_TIMEOUT); production's is in
config/jobs_settings.py, above every late-acknowledged task's hard time limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import current_app

from config import jobs_settings
from tests.jobs import worker_tasks
from tests.jobs.redis_server import RedisServer
from tests.jobs.worker_process import WorkerProcess

VISIBILITY = 5


@pytest.fixture
def start_worker(redis_up: RedisServer, tmp_path: Path) -> Iterator:
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        worker = WorkerProcess(
            name,
            tmp_path,
            {"REDIS_URL": redis_up.url(0), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)},
            queues="default",
        )
        started.append(worker)
        worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


def lines(marker: Path) -> list[str]:
    return [line.split()[0] for line in marker.read_text().splitlines()] if marker.exists() else []


def test_a_killed_workers_task_runs_again_once(
    broker_on_redis, start_worker, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    first = start_worker("first")
    worker_tasks.marked_work.apply_async(
        kwargs={"agency_id": None, "marker": str(marker), "first_seconds": 120}
    )
    first.wait_for(lambda: lines(marker) == ["start"], "task start", 60)
    killed_at = time.monotonic()

    first.kill()
    time.sleep(VISIBILITY + 1)  # the message is visible again once the timeout has passed
    second = start_worker("second")
    second.wait_for(lambda: "done" in lines(marker), "second run's end", 60)
    recovered_in = time.monotonic() - killed_at
    time.sleep(VISIBILITY * 2)  # long enough for a wrong second redelivery to show

    assert lines(marker) == ["start", "start", "done"]
    client = redis.Redis.from_url(broker_on_redis.url(0))
    assert client.llen("default") == 0
    assert client.hlen("unacked") == 0
    assert recovered_in < 60
    print(f"a killed worker's task ran again {recovered_in:.1f} s after the kill")


def test_the_visibility_timeout_is_above_every_late_acknowledged_tasks_hard_limit(settings):
    """Else Redis hands a task still running to a second worker. Tasks that may run longer
    acknowledge on receipt (and run again at their next schedule)."""
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility == jobs_settings.VISIBILITY_TIMEOUT
    assert visibility <= 1800, "a killed worker's task would wait more than half an hour"
    longest = 0
    for name, task in current_app.tasks.items():
        if name.startswith(("celery.", "tests.")):
            continue
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert hard, f"{name} has no hard time limit"
        soft = task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT
        assert soft < hard, f"{name}: the soft limit must come before the hard one"
        acks_late = task.acks_late if task.acks_late is not None else settings.CELERY_TASK_ACKS_LATE
        if acks_late:
            assert hard + 60 <= visibility, f"{name}: hard limit {hard} s"
            longest = max(longest, hard)
    assert longest >= 960  # scans at least: the check really looked at the documents tasks
