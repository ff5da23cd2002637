"""Running sqlmap (Debian's package, scripts/ensure-system-packages test) against the live
server, and reading what it found.

Bounded: PostgreSQL payloads only (the portal's one database), the boolean-based and
error-based techniques (time-based ones would read the shared machine's load as a delay, and
UNION and stacked queries multiply the requests while a query they could reach also answers
the boolean test), level 1 and risk 1 (level 2 tripled the run on this machine), the named
parameters only, every request under a timeout, and the whole run under an external one.
Redirects are not followed: a filed request answers 302 to its own page, and that answer is
what sqlmap compares.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.idp.fixtures import service_unavailable

SQLMAP = "sqlmap"
RUN_TIMEOUT = 120  # seconds, the external bound of one run (each takes 20 to 60 s)


@dataclass(frozen=True)
class Injection:
    parameter: str
    place: str
    kind: str
    payload: str

    def __str__(self) -> str:
        return f"{self.place} parameter {self.parameter!r} ({self.kind}), payload: {self.payload}"


@dataclass
class SqlmapRun:
    output: str
    log: str

    def injections(self) -> list[Injection]:
        """The injection points sqlmap reported, from its log (and its console output, where
        the same block is printed)."""
        found: list[Injection] = []
        for block in re.findall(r"^---\n(.*?)^---$", self.log + "\n" + self.output, re.M | re.S):
            parameter = re.search(r"^Parameter: (.+?) \((\w+)\)$", block, re.M)
            if parameter is None:
                continue
            for kind, payload in re.findall(
                r"^\s+Type: (.+?)\n(?:\s+Title: .*\n)?\s+Payload: (.*)$", block, re.M
            ):
                found.append(Injection(parameter[1], parameter[2], kind, payload))
        return sorted(set(found), key=str)

    def tested(self, place: str) -> set[str]:
        """The parameters sqlmap finished testing and found not injectable."""
        return set(
            re.findall(rf"{place} parameter '([^']+)' does not seem to be injectable", self.output)
        )

    def error_codes(self) -> dict[int, int]:
        """HTTP error codes seen during the run: {code: times}."""
        line = re.search(r"HTTP error codes detected during run:\n?(.*)", self.output)
        if line is None:
            return {}
        return {int(c): int(n) for c, n in re.findall(r"(\d{3}) \([^)]*\) - (\d+) times", line[1])}


def run_sqlmap(url: str, *, host: str, parameters: list[str], workdir: Path, extra=()) -> SqlmapRun:
    if shutil.which(SQLMAP) is None:
        service_unavailable("sqlmap is not installed: scripts/ensure-system-packages test")
    output_dir = workdir / "sqlmap"
    command = [
        SQLMAP,
        "-u",
        url,
        "--host",
        host,
        "-p",
        ",".join(parameters),
        "--batch",
        "--flush-session",
        "--output-dir",
        str(output_dir),
        "--dbms",
        "PostgreSQL",
        "--technique",
        "BE",
        "--level",
        "1",
        "--risk",
        "1",
        "--timeout",
        "20",
        "--retries",
        "1",
        "--answers",
        "follow=N",
        "--disable-coloring",
        *extra,
    ]
    try:
        result = subprocess.run(  # noqa: S603 (a fixed program, arguments built here)
            command,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            cwd=workdir,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"sqlmap ran past {RUN_TIMEOUT} s on {url}: {str(exc.stdout or '')[-3000:]}"
        ) from exc
    logs = sorted(output_dir.glob("*/log"))
    return SqlmapRun(
        output=result.stdout + result.stderr,
        log="\n".join(path.read_text(errors="replace") for path in logs),
    )


def assert_not_injectable(run: SqlmapRun, place: str, parameters: list[str]) -> None:
    """No injection point, every parameter tested to the end, no server error on the way."""
    injections = run.injections()
    assert not injections, "sqlmap found SQL injection:\n" + "\n".join(map(str, injections))
    untested = set(parameters) - run.tested(place)
    assert not untested, f"sqlmap did not finish testing {sorted(untested)}:\n{run.output[-4000:]}"
    codes = run.error_codes()
    assert 500 not in codes, f"the payloads met server errors ({codes}):\n{run.output[-4000:]}"
