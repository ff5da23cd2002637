"""Process plumbing shared by the identity-provider harnesses.

Servers are started as child processes bound to 127.0.0.1 on a free port, with their output
sent to files in their work directory (no pipe can fill up and stall them), polled for
readiness against a deadline, and stopped with SIGTERM, then SIGKILL. On Linux each child
also asks the kernel to SIGTERM it when the test process dies, so an interrupted run leaves
no server behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

READY_TIMEOUT = 15.0
_POLL_INTERVAL = 0.05
_PR_SET_PDEATHSIG = 1


class ServiceUnavailable(RuntimeError):
    """A binary or package needed to run a local identity provider is missing."""


class ServerStartError(RuntimeError):
    """A server process exited or did not become ready before the deadline."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    libc = ctypes.CDLL(libc_name, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ServerProcess:
    """A child server process whose stdout and stderr go to files in `workdir`."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.workdir = workdir
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv built by the harness
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=cwd or workdir,
                env=env,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def describe_failure(self, what: str) -> str:
        status = self.proc.poll()
        state = "is still running" if status is None else f"exited with status {status}"
        return (
            f"{self.name} {what}; the process {state}.\n"
            f"command: {' '.join(self.argv)}\n"
            f"--- stderr ---\n{self.stderr()[-4000:]}\n"
            f"--- stdout ---\n{self.stdout()[-2000:]}"
        )

    def wait_until(
        self, ready: Callable[[], bool], *, what: str, timeout: float = READY_TIMEOUT
    ) -> None:
        """Poll `ready()` until it is true; raise ServerStartError if the process exits first
        or the deadline passes. Exceptions raised by `ready()` count as "not yet"."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            if not self.running():
                raise ServerStartError(self.describe_failure(f"exited before {what}"))
            try:
                if ready():
                    return
            except Exception as exc:  # noqa: BLE001 - a failing probe means "not ready yet"
                last_error = exc
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    self.describe_failure(
                        f"did not report {what} within {timeout:.0f} s"
                        f" (last probe error: {last_error!r})"
                    )
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass


def port_in_use_failure(err: ServerStartError) -> bool:
    """Whether a start failed because another process grabbed the port first."""
    text = str(err).lower()
    return "address already in use" in text or "eaddrinuse" in text


def require_executable(name: str, *candidates: str) -> str:
    """Path of an executable (looked up in PATH, then in the candidate paths)."""
    from shutil import which

    found = which(name)
    if found:
        return found
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ServiceUnavailable(f"`{name}` was not found")
