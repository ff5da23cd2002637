"""Monitoring settings (issue 13): who may read ``/healthz/deep`` without signing in, and when
a backup or a seal counts as late. Read from the environment by config/settings.py."""

from __future__ import annotations

from typing import NamedTuple

from config.env import env_int, env_str


class MonitoringSettings(NamedTuple):
    # A bearer token for an uptime monitor of the operators; empty: operators sign in.
    deep_token: str
    backup_stale_hours: int
    seal_stale_hours: int


def monitoring_settings() -> MonitoringSettings:
    return MonitoringSettings(
        deep_token=env_str("HEALTHZ_DEEP_TOKEN") or "",
        backup_stale_hours=env_int("HEALTHZ_BACKUP_STALE_HOURS", 26, minimum=1),
        seal_stale_hours=env_int("HEALTHZ_SEAL_STALE_HOURS", 2, minimum=1),
    )
