"""Fixtures for background work against a real Redis: a private ``redis-server`` per test
module (tests/jobs/redis_server.py), the cache and the Celery broker pointed at it, and
a Redis that accepts connections and never answers
(tests/jobs/redis_server.py also reads what reached the queues).

Without ``redis-server`` the tests skip, or fail under REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import redis

from accounts import ratelimits
from config import jobs_settings
from config.celery import app as celery_app
from tests.idp._process import ServerStartError
from tests.idp.fixtures import service_unavailable
from tests.jobs.redis_server import (
    RedisServer,
    redis_unavailable_reason,
    reset_broker_connections,
    start_redis,
)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    reason = redis_unavailable_reason()
    if reason:
        service_unavailable(f"Redis cannot run: {reason}")
    try:
        server = start_redis(tmp_path_factory.mktemp("redis"))
    except ServerStartError as exc:
        service_unavailable(f"Redis cannot run: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_up(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The module's Redis, running and empty at the start of the test (and running after)."""
    if not redis_server.running:
        redis_server.start()
    redis.Redis.from_url(redis_server.url()).flushall()
    yield redis_server
    if not redis_server.running:
        redis_server.start()


@pytest.fixture
def cache_on_redis(settings, redis_up: RedisServer) -> Iterator[RedisServer]:
    """The default cache (the rate limits' counters) in the private Redis, with production's
    timeouts; the in-process fallback counters start empty."""
    settings.CACHES = {"default": jobs_settings.cache(redis_up.url(1))}
    ratelimits.LOCAL.clear()
    ratelimits._warned.clear()
    yield redis_up
    ratelimits.LOCAL.clear()
    ratelimits._warned.clear()


@pytest.fixture
def broker_on_redis(redis_up: RedisServer) -> Iterator[RedisServer]:
    """Celery as production runs it: tasks published to the private Redis (database 0),
    not run in-process."""
    keys = ("broker_url", "task_always_eager", "broker_transport_options")
    saved = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.update(
        broker_url=redis_up.url(0),
        task_always_eager=False,
        broker_transport_options=jobs_settings.broker_transport_options(),
    )
    reset_broker_connections()
    try:
        yield redis_up
    finally:
        reset_broker_connections()
        celery_app.conf.update(saved)


@pytest.fixture
def silent_redis():
    """A Redis that accepts connections and never answers (a hung server, a half-open
    network path): what the read timeout is for."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/1"
    stop.set()
    thread.join(timeout=2)
    for sock in accepted:
        sock.close()
    listener.close()
