"""A real ``celery -A config worker`` for tests, as the Procfile runs it, on a private Redis.

Each worker starts in a session of its own, so the test can SIGKILL the main process and its
pool children together (a crashed dyno) and always clean up; every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


class WorkerProcess:
    def __init__(self, name: str, workdir: Path, env: dict[str, str], queues: str) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        celery = Path(sys.executable).with_name("celery")
        argv = [
            str(celery),
            "-A",
            "config",
            "worker",
            "--include",
            "tests.jobs.worker_tasks",
            "--queues",
            queues,
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"{name}@%h",
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv built here
                argv,
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.name} exited before {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s:\n{self.log()[-4000:]}")
            time.sleep(0.2)

    def wait_ready(self) -> None:
        self.wait_for(lambda: " ready." in self.log(), "ready worker", START_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL the worker's main process and its pool children at once."""
        self._signal_group(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Pool children outlive a killed parent for a moment: make sure none is left.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signum)
