"""Freeze and thaw a server the test started (SIGSTOP / SIGCONT): the process keeps its
listening socket, so the kernel still accepts connections, but nothing answers them, as with
a hung or overloaded server. Harder on a client than a refused connection: only a timeout
ends its wait."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path


def processes_named(group: int, name: str) -> list[int]:
    """The processes of process group ``group`` whose command is ``name`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its ")".
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if comm == name and int(fields[2]) == group:
            found.append(int(entry.name))
    return found


@contextlib.contextmanager
def paused(pid: int) -> Iterator[None]:
    """The process frozen inside the block, running again after it, whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
