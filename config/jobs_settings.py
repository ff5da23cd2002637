"""How background work behaves when Redis is slow, away, or loses a worker (issue 13).

- **Time limits.** Every task has a hard limit: the global one below unless its decorator
  sets its own (documents.tasks: scans 16 min, redaction 28 min, office conversion 5 min).
- **Visibility timeout.** Tasks acknowledge late: a message stays "unacked" in Redis while
  its task runs, and Redis hands it out again once ``visibility_timeout`` passes without an
  acknowledgement (a worker killed with SIGKILL never sends one). The timeout must exceed
  the hard limit of every late-acknowledged task, or a task still running would be started
  a second time; kept as short as that allows, so a killed worker's task runs again within
  half an hour rather than kombu's default hour. Tasks that may run longer (the nightly
  audit verification) acknowledge early instead: they run again at their next schedule.
  tests/config/test_broker_settings.py checks the rule over every registered task.
- **Fail fast.** An unreachable Redis costs a web request at most a second or two: the cache
  (rate limits) and the broker (publishing a task) connect and read with short timeouts,
  and a publish is retried twice, quickly. What then degrades: docs/operations.md ("When
  Redis is down").
"""

from __future__ import annotations

from typing import Any

from config.env import env_int

# Global limits for any task that sets none of its own.
TASK_SOFT_TIME_LIMIT = 540
TASK_TIME_LIMIT = 600
# Above the longest hard limit of a late-acknowledged task (redaction: 1,680 s). Tests set
# a few seconds (CELERY_VISIBILITY_TIMEOUT) to see a killed worker's task come back.
VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=1)

# Seconds: connecting to Redis, and waiting for one reply to a cache command.
CACHE_CONNECT_TIMEOUT = 0.5
CACHE_READ_TIMEOUT = 1.0
BROKER_CONNECT_TIMEOUT = 1.0
BROKER_READ_TIMEOUT = 2.0


def cache(redis_url: str | None, ssl_cert_reqs: str = "required") -> dict[str, Any]:
    """The default cache: Redis with short socket timeouts (OPTIONS go to redis-py's
    connection pool), or the process's own memory without Redis. Over TLS (``rediss://``)
    the certificate is checked as for the broker (``REDIS_SSL_CERT_REQS``)."""
    if not redis_url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    options: dict[str, Any] = {
        "socket_connect_timeout": CACHE_CONNECT_TIMEOUT,
        "socket_timeout": CACHE_READ_TIMEOUT,
    }
    if redis_url.startswith("rediss://"):
        options["ssl_cert_reqs"] = ssl_cert_reqs
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "OPTIONS": options,
    }


def broker_transport_options() -> dict[str, Any]:
    """Options of kombu's Redis transport. The read timeout stays above the worker's own
    blocking read (BRPOP, a second at a time). Each worker looks for messages whose
    visibility timeout has passed when it starts and then every minute."""
    return {
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,
        "socket_timeout": BROKER_READ_TIMEOUT,
        "unacked_restore_interval": 60,
        "unacked_restore_throttle": 1,
    }


# A task's publish (web process or relay) tries three times within about half a second; a
# task that still cannot be sent stays in the outbox (accounts/outbox/relay.py).
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.3,
}
