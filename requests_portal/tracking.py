"""Signed links that let a guest follow their own request without signing in."""

from __future__ import annotations

from django.core import signing

TRACKING_SALT = "requests_portal.tracking"
TRACKING_MAX_AGE = 60 * 60 * 24 * 365  # a tracking link in a confirmation email lasts a year


def tracking_token(records_request) -> str:
    return signing.dumps(
        {"a": records_request.agency_id, "r": records_request.pk}, salt=TRACKING_SALT
    )


def request_id_from_tracking_token(token: str, agency) -> int | None:
    try:
        data = signing.loads(token, salt=TRACKING_SALT, max_age=TRACKING_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") != agency.pk:
        return None
    return data.get("r")
