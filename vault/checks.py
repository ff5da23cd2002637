"""The start-up check of the storage locations (``settings.STORAGE_LOCATIONS``): ``check``
and ``check --deploy`` at release list every problem, and the release stops."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from vault.locations import DEFAULT_LOCATION, LOCATION_KEYS, LOCATION_NAME, SSE_CHOICES


def _entry_problems(name: str, entry: Any, *, buckets_needed: bool) -> list[str]:
    if not isinstance(entry, dict):
        return ["must be a JSON object of its settings"]
    problems = []
    allowed = {"label"} if name == DEFAULT_LOCATION else LOCATION_KEYS
    unknown = sorted(set(entry) - allowed)
    if unknown:
        why = (
            " (the default location is the DOCUMENTS_S3_* settings; here it takes only a label)"
            if name == DEFAULT_LOCATION
            else f" (known: {', '.join(sorted(LOCATION_KEYS))})"
        )
        problems.append(f"has unknown settings {', '.join(unknown)}{why}")
    for key in allowed & set(entry):
        if not isinstance(entry[key], str):
            problems.append(f"{key} must be text")
    if name == DEFAULT_LOCATION:
        return problems
    if buckets_needed and not entry.get("bucket"):
        problems.append("has no bucket (every location needs its own when documents are in S3)")
    sse = entry.get("sse", "")
    if sse not in SSE_CHOICES:
        problems.append(f"sse must be AES256 or aws:kms, not {sse!r}")
    elif entry.get("kms_key_id") and sse not in ("", "aws:kms"):
        problems.append("has a kms_key_id but sse is not aws:kms: the key would never be used")
    return problems


def location_problems() -> list[str]:
    """Every problem of the configured locations, in words an operator can act on."""
    configured = getattr(settings, "STORAGE_LOCATIONS", None) or {}
    problems = []
    buckets_needed = bool(settings.DOCUMENTS_S3_BUCKET) or getattr(settings, "IS_PRODUCTION", False)
    if settings.DOCUMENTS_S3_KMS_KEY_ID and settings.DOCUMENTS_S3_SSE != "aws:kms":
        problems.append(
            "DOCUMENTS_S3_KMS_KEY_ID is set but DOCUMENTS_S3_SSE is not aws:kms: "
            "the key would never be used"
        )
    owners: dict[str, str] = {}
    if settings.DOCUMENTS_S3_BUCKET:
        owners[settings.DOCUMENTS_S3_BUCKET] = DEFAULT_LOCATION
        owners[settings.KEYSTORE_S3_BUCKET or settings.DOCUMENTS_S3_BUCKET] = DEFAULT_LOCATION
    for name, entry in configured.items():
        if not LOCATION_NAME.match(str(name)):
            problems.append(
                f"STORAGE_LOCATIONS: {name!r} is not a location name (lower-case letters, "
                "digits and hyphens, starting with a letter, at most 40)"
            )
            continue
        for problem in _entry_problems(name, entry, buckets_needed=buckets_needed):
            problems.append(f"STORAGE_LOCATIONS: location {name!r} {problem}")
        if name == DEFAULT_LOCATION or not isinstance(entry, dict):
            continue
        bucket = entry.get("bucket") or ""
        for used in {bucket, entry.get("key_bucket") or bucket} - {""}:
            other = owners.setdefault(str(used), name)
            if other != name:
                problems.append(
                    f"STORAGE_LOCATIONS: location {name!r} uses the bucket {used!r} of "
                    f"location {other!r}: each location's blobs must stay in its own buckets"
                )
    return problems


@register()
def check_storage_locations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, id="vault.E001", hint="See docs/operations.md, 'Data sovereignty'.")
        for problem in location_problems()
    ]
