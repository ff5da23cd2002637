"""A phone request logged the morning it came in counts as received then, never after its
own acknowledgement."""

from __future__ import annotations

import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from accounts.tenancy import agency_context
from requests_portal import reports, services
from tests.requests_portal.test_workflow import agency_defaults, fresh_rate_limits  # noqa: F401

pytestmark = pytest.mark.django_db


def test_intake_logged_the_same_morning_never_gives_negative_days_to_first_response(tenant):
    zone = ZoneInfo(tenant.agency.time_zone)
    morning = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=zone)
    with (
        agency_context(tenant.agency),
        mock.patch("django.utils.timezone.now", return_value=morning),
    ):
        r = services.request_submit(
            agency=tenant.agency,
            actor=tenant.staff,
            title="t",
            description="d",
            contact=services.Contact(name="x"),
            channel="phone",
            received_on=morning.date(),
        )
        services.request_acknowledge(records_request=r, actor=tenant.publisher)
        _rows, total = reports.build_report(
            tenant.agency, morning.date(), morning.date(), morning.date()
        )
    print(r.received_at, r.acknowledged_at, total)
    assert r.received_at <= r.acknowledged_at
    assert total.median_days_to_first_response >= 0
