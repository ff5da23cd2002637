"""A task for the real-worker tests (loaded by the worker with ``--include``): it notes its
start and its end in a marker file, and sleeps in between, long the first time (so the test
can kill the worker mid-task), briefly when it runs again."""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Task

from config.celery import app


@app.task(name="tests.jobs.marked_work", base=Task, acks_late=True)
def marked_work(*, agency_id: None = None, marker: str, first_seconds: float) -> None:
    path = Path(marker)
    again = path.exists() and "start" in path.read_text()
    with path.open("a") as out:
        out.write(f"start {os.getpid()}\n")
    time.sleep(1 if again else first_seconds)
    with path.open("a") as out:
        out.write(f"done {os.getpid()}\n")
