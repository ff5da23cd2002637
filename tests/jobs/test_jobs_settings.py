"""config/jobs_settings.py: the cache and the broker give up quickly on an unreachable Redis,
and the cache checks a TLS certificate as the broker does."""

from __future__ import annotations

from config import jobs_settings


def test_the_redis_cache_has_short_timeouts():
    options = jobs_settings.cache("redis://localhost:6379/0")["OPTIONS"]
    assert options["socket_connect_timeout"] <= 1
    assert options["socket_timeout"] <= 2
    assert "ssl_cert_reqs" not in options


def test_the_redis_cache_over_tls_follows_redis_ssl_cert_reqs():
    options = jobs_settings.cache("rediss://example.com:6380/0", "none")["OPTIONS"]
    assert options["ssl_cert_reqs"] == "none"
    assert jobs_settings.cache("rediss://example.com:6380/0")["OPTIONS"]["ssl_cert_reqs"] == (
        "required"
    )


def test_without_redis_the_cache_is_in_process():
    assert jobs_settings.cache(None)["BACKEND"].endswith("LocMemCache")


def test_the_broker_fails_fast_and_sweeps_every_minute():
    options = jobs_settings.broker_transport_options()
    assert options["socket_connect_timeout"] <= 2
    assert 1 < options["socket_timeout"] <= 5  # above the worker's one-second BRPOP
    assert options["unacked_restore_interval"] == 60
    assert options["unacked_restore_throttle"] == 1
    assert jobs_settings.PUBLISH_RETRY_POLICY["max_retries"] <= 3
