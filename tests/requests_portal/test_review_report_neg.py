"""A phone request logged the morning it came in counts as received then, never after its
own acknowledgement."""

from __future__ import annotations

import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from accounts.tenancy import agency_context
from requests_portal import reports
from requests_portal.services import lifecycle, submission

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def test_intake_logged_the_same_morning_never_gives_negative_days_to_first_response(tenant):
    zone = ZoneInfo(tenant.agency.time_zone)
    morning = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=zone)
    with (
        agency_context(tenant.agency),
        mock.patch("django.utils.timezone.now", return_value=morning),
    ):
        r = submission.request_submit(
            agency=tenant.agency,
            actor=tenant.staff,
            title="t",
            description="d",
            contact=submission.Contact(name="x"),
            channel="phone",
            received_on=morning.date(),
        )
        lifecycle.request_acknowledge(records_request=r, actor=tenant.publisher)
        _rows, total = reports.build_report(
            tenant.agency, morning.date(), morning.date(), morning.date()
        )
    print(r.received_at, r.acknowledged_at, total)
    assert r.received_at <= r.acknowledged_at
    assert total.median_days_to_first_response >= 0
