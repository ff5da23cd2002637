"""The storage locations of a deployment (issue 13, data sovereignty), read from the
environment.

``STORAGE_LOCATIONS`` is a JSON object naming the places an agency's documents, escrow keys,
audit archives and exports may live, for example::

    {"default": {"label": "Oregon (us-west-2)"},
     "eu-central": {"label": "Frankfurt (eu-central-1)", "bucket": "portal-docs-fra",
                    "region": "eu-central-1", "kms_key_id": "arn:aws:kms:..."}}

The ``default`` location always exists: its bucket, region, endpoint and encryption are the
``DOCUMENTS_S3_*`` and ``KEYSTORE_S3_BUCKET`` settings (so a deployment that sets nothing
here is unchanged); in this variable it may only get a label. Every other location may have
``label``, ``bucket``, ``key_bucket`` (escrow keys; default: the bucket), ``region``,
``endpoint_url``, ``sse`` ("AES256" or "aws:kms") and ``kms_key_id``. Credentials are the
deployment's (``DOCUMENTS_S3_ACCESS_KEY_ID``): one deployment, one set of keys.

This module only reads the JSON (a value that is not a JSON object stops start-up); what the
entries say is checked by the system check ``vault.checks`` (unknown keys, a missing bucket,
a KMS key without SSE-KMS, a bucket shared by two locations), so ``check --deploy`` at
release refuses a wrong configuration with every problem listed.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_int, env_str


def storage_locations() -> dict[str, dict[str, Any]]:
    raw = env_str("STORAGE_LOCATIONS", "") or ""
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"STORAGE_LOCATIONS is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(
            'STORAGE_LOCATIONS must be a JSON object: {"<name>": {"bucket": ...}, ...}'
        )
    return parsed


# An S3 call waits at most this long (seconds) for a connection and for each answer, and is
# tried this many times in all: a gateway that stops answering costs an upload request
# 2 x 10 s at most, under gunicorn's and Heroku's 30 s, where botocore's defaults (60 s, up
# to five attempts) held it for minutes (tests/faults/test_s3_gateway_stalls.py).
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 10
S3_MAX_ATTEMPTS = 2


def s3_timeouts() -> tuple[int, int, int]:
    """The connect and read timeouts and the attempts: ``DOCUMENTS_S3_CONNECT_TIMEOUT``,
    ``DOCUMENTS_S3_READ_TIMEOUT``, ``DOCUMENTS_S3_MAX_ATTEMPTS``."""
    return (
        env_int("DOCUMENTS_S3_CONNECT_TIMEOUT", S3_CONNECT_TIMEOUT, minimum=1),
        env_int("DOCUMENTS_S3_READ_TIMEOUT", S3_READ_TIMEOUT, minimum=1),
        env_int("DOCUMENTS_S3_MAX_ATTEMPTS", S3_MAX_ATTEMPTS, minimum=1),
    )
