"""Production's Redis settings against a Redis that speaks TLS only with a self-signed
certificate, as Heroku Data for Redis does: with REDIS_SSL_CERT_REQS=none (app.json) both the
Celery broker and the cache (rate limits) connect; with the default, "required", both refuse
the certificate. The cache used to ignore the setting and failed on Heroku."""

from __future__ import annotations

import pytest

from tests.idp._process import ServiceUnavailable
from tests.idp.fixtures import service_unavailable
from tests.ops.production import production_env, run_manage
from tests.ops.services import start_tls_redis

PROBE = """
from django.core.cache import cache
from config.celery import app
for name, attempt in [
    ("cache", lambda: cache.set("probe", "round trip") or cache.get("probe")),
    ("broker", lambda: app.connection_for_write().ensure_connection(max_retries=0) and "up"),
]:
    try:
        print(name, attempt())
    except Exception as error:
        print(name, "failed:", type(error).__name__, error)
"""


@pytest.fixture
def tls_redis(tmp_path):
    try:
        server = start_tls_redis(tmp_path)
    except ServiceUnavailable as error:
        service_unavailable(str(error))
    yield server
    server.stop()


def _probe(url: str, cert_reqs: str) -> dict[str, str]:
    result = run_manage(
        production_env(REDIS_URL=url, REDIS_SSL_CERT_REQS=cert_reqs), "shell", "-c", PROBE
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split(" ", 1) for line in result.stdout.splitlines() if " " in line]
    return {name: outcome for name, outcome in lines if name in ("cache", "broker")}


def test_with_certificate_checks_off_the_broker_and_the_cache_both_connect(tls_redis):
    assert _probe(tls_redis.url, "none") == {"cache": "round trip", "broker": "up"}


def test_with_certificate_checks_required_both_refuse_a_self_signed_certificate(tls_redis):
    outcome = _probe(tls_redis.url, "required")
    assert outcome["cache"].startswith("failed:")
    assert "certificate verify failed" in outcome["cache"]
    assert outcome["broker"].startswith("failed:")
