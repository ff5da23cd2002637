"""A private ``redis-server`` for tests: its own free port, no persistence, started and
stopped at will (an outage is a stop; the recovery a start on the same port).

Uses the process plumbing of tests/idp/_process.py (output to files, readiness polled
against a deadline, SIGTERM then SIGKILL, and the child dies with the test process).
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import redis
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
    require_executable,
)


def redis_unavailable_reason() -> str | None:
    try:
        require_executable("redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server")
    except ServiceUnavailable as exc:
        return str(exc)
    return None


def _answers_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64).startswith(b"+PONG")


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.binary = require_executable(
            "redis-server", "/usr/bin/redis-server", "/usr/local/bin/redis-server"
        )
        self.workdir = workdir
        self.port = free_port()
        self.process: ServerProcess | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        for _attempt in range(3):
            self.process = ServerProcess(
                "redis",
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                self.workdir,
            )
            try:
                self.process.wait_until(lambda: _answers_ping(self.port), what="PONG")
                return
            except ServerStartError as err:
                if not port_in_use_failure(err):
                    raise
                self.port = free_port()
        raise ServerStartError("redis-server found no free port")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.running()


def start_redis(workdir: Path) -> RedisServer:
    server = RedisServer(workdir)
    server.start()
    return server


def queued(server: RedisServer, queue: str) -> list[dict[str, Any]]:
    """The task messages waiting in ``queue`` (oldest first), each as
    {"task", "id", "kwargs", "headers"}, read straight from Redis (kombu's list per queue)."""
    client = redis.Redis.from_url(server.url(0))
    found = []
    for raw in reversed(client.lrange(queue, 0, -1)):  # kombu LPUSHes, workers BRPOP
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append(
            {
                "task": message["headers"]["task"],
                "id": message["headers"]["id"],
                "kwargs": body[1],
                "headers": message["headers"],
            }
        )
    return found


def reset_broker_connections() -> None:
    """Forget every broker connection and producer (kombu keeps global pools per URL)."""
    kombu_pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
