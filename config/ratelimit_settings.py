"""Rate limits (django-ratelimit, counted in the cache: Redis in production; a tighter
in-process count while Redis is away, accounts/ratelimits.py). Each is "<count>/<period>",
e.g. "10/h" or "30/10m", and may be set in the environment under its own name."""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str

DEFAULTS = {
    "RATE_LIMIT_LOGIN_PER_IP": "30/10m",
    "RATE_LIMIT_RESET_PER_IP": "10/h",
    "RATE_LIMIT_RESET_PER_EMAIL": "3/h",
    "RATE_LIMIT_SIGNUP_PER_IP": "10/h",
    "RATE_LIMIT_INVITE_PER_USER": "50/h",
    "RATE_LIMIT_MFA_PER_USER": "10/5m",
    # Document uploads (a resumable start or a posted form): each opens storage and a scan.
    "RATE_LIMIT_UPLOAD_PER_USER": "300/h",
    "RATE_LIMIT_UPLOAD_PER_IP": "60/h",  # tracking-link requesters
    # Public filing: per address generous (a library's network is one address for many),
    # per email tight.
    "REQUEST_SUBMIT_RATE_PER_IP": "60/h",
    "REQUEST_SUBMIT_RATE_PER_EMAIL": "5/h",
}


def rate_limits() -> tuple[str, ...]:
    """The limits in the order of DEFAULTS; a malformed one stops the process, named."""
    values = {name: env_str(name, default) or default for name, default in DEFAULTS.items()}
    bad = [name for name, rate in values.items() if not re.fullmatch(r"[0-9]+/[0-9]*[smhd]", rate)]
    if bad:
        raise ImproperlyConfigured(f"{', '.join(bad)} must look like '10/h' or '30/10m'.")
    return tuple(values.values())
