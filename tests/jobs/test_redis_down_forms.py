"""With Redis unreachable, the public request form and the sign-in still work: the shared
rate limits fail open (a warning in the log), a tighter in-process limit stands in, and no
filing is lost. Against a real redis-server, stopped for the outage."""

from __future__ import annotations

import logging
import time

import pytest
import redis
from django.test import Client
from django.urls import reverse

from accounts import ratelimits
from accounts.tenancy import agency_context
from config import jobs_settings
from requests_portal.models import RecordsRequest
from requests_portal.services import agency_settings
from tests.accounts.identity_helpers import sign_in, signed_in_user_id
from tests.requests_portal.helpers import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _agency_defaults(tenant):
    with agency_context(tenant.agency):
        agency_settings.agency_setup_defaults(agency=tenant.agency, state="CA")


def filed(tenant, title: str) -> list[RecordsRequest]:
    with agency_context(tenant.agency):
        return list(RecordsRequest.objects.filter(agency=tenant.agency, title=title))


def warnings_of(caplog) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "portal.ratelimits" and r.levelno == logging.WARNING
    ]


def test_with_redis_up_the_limit_counts_in_redis(tenant, cache_on_redis):
    client = Client(HTTP_HOST=tenant.host)
    response = client.post(reverse("request_new"), form_data(title="Counted in Redis"))
    assert response.status_code == 302
    assert len(filed(tenant, "Counted in Redis")) == 1
    assert redis.Redis.from_url(cache_on_redis.url(1)).dbsize() > 0


def test_a_resident_files_a_request_while_redis_is_down(tenant, cache_on_redis, caplog):
    cache_on_redis.stop()
    client = Client(HTTP_HOST=tenant.host)
    caplog.set_level(logging.WARNING, logger="portal.ratelimits")

    started = time.monotonic()
    response = client.post(reverse("request_new"), form_data(title="Filed during an outage"))
    took = time.monotonic() - started

    assert response.status_code == 302
    assert len(filed(tenant, "Filed during an outage")) == 1
    (warning, *_) = warnings_of(caplog)
    assert warning.fields["event"] == "ratelimit_cache_unreachable"
    assert warning.fields["group"] == "request_submit_ip"
    assert "ann@example.org" not in warning.getMessage() + repr(warning.fields)
    assert took < 3, f"a filing took {took:.2f} s with Redis down"


def test_during_the_outage_the_tighter_in_process_limit_applies(tenant, cache_on_redis, settings):
    settings.REQUEST_SUBMIT_RATE_PER_EMAIL = "8/h"  # in-process: 8 // 4 = 2 an hour
    cache_on_redis.stop()
    client = Client(HTTP_HOST=tenant.host)

    answers = [
        client.post(reverse("request_new"), form_data(title=f"Outage {n}")).status_code
        for n in range(3)
    ]

    assert answers == [302, 302, 429]
    assert ratelimits.fallback_rate("8/h") == (2, 3600)
    assert ratelimits.fallback_rate("30/10m") == (7, 600)
    assert ratelimits.fallback_rate("3/h") == (1, 3600)


def test_once_redis_is_back_the_shared_limit_counts_again(tenant, cache_on_redis):
    cache_on_redis.stop()
    client = Client(HTTP_HOST=tenant.host)
    assert client.post(reverse("request_new"), form_data(title="Down")).status_code == 302
    cache_on_redis.start()

    assert client.post(reverse("request_new"), form_data(title="Up")).status_code == 302

    assert redis.Redis.from_url(cache_on_redis.url(1)).dbsize() > 0


def test_sign_in_works_while_redis_is_down(tenant, cache_on_redis, caplog):
    cache_on_redis.stop()
    caplog.set_level(logging.WARNING, logger="portal.ratelimits")
    client = Client(HTTP_HOST=tenant.host)

    response = sign_in(client, tenant.requester.email)

    assert response.status_code == 302
    assert signed_in_user_id(client) == tenant.requester.pk
    assert [w.fields["group"] for w in warnings_of(caplog)] == ["login_ip"]


def test_a_password_reset_is_sent_while_redis_is_down(
    tenant, cache_on_redis, mailoutbox, django_capture_on_commit_callbacks
):
    cache_on_redis.stop()
    client = Client(HTTP_HOST=tenant.host)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:password_reset"), {"email": tenant.requester.email}
        )

    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [[tenant.requester.email]]


def test_a_redis_that_never_answers_costs_a_filing_seconds_not_minutes(
    tenant, settings, silent_redis
):
    settings.CACHES = {"default": jobs_settings.cache(silent_redis)}
    ratelimits.LOCAL.clear()
    client = Client(HTTP_HOST=tenant.host)

    started = time.monotonic()
    response = client.post(reverse("request_new"), form_data(title="Filed past a hung Redis"))
    took = time.monotonic() - started

    assert response.status_code == 302
    assert len(filed(tenant, "Filed past a hung Redis")) == 1
    # Two limits (address, e-mail), each one read timeout (1 s) plus redis-py's retries.
    assert took < 10, f"a filing took {took:.2f} s against a silent Redis"
    print(f"filing against a silent Redis took {took:.2f} s")
