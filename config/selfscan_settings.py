"""The weekly self-scan's settings (issue 13; ops/selfscan/).

``PORTAL_SELF_URL``: the portal's own address, which the scan requests to check its security
headers and cookies (default ``https://<PORTAL_BASE_DOMAIN>`` in production, else
``http://<PORTAL_BASE_DOMAIN>:8000``). ``SELF_SCAN_PIP_AUDIT``: the pip-audit command
(default: the one `make install` puts in ``.venv-tools``, else this Python's ``-m pip_audit``, else
``pip-audit`` on the PATH; empty:
not installed, the dependency check reports "not checked"). ``SELF_SCAN_REQUIREMENTS``: the
lock file audited (default requirements.txt)."""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_str


def _pip_audit(base_dir: Path) -> list[str]:
    configured = env_str("SELF_SCAN_PIP_AUDIT")
    if configured:
        return shlex.split(configured)
    # `make install` puts pip-audit in its own environment (requirements-tools.in).
    tools = base_dir / ".venv-tools" / "bin" / "pip-audit"
    if tools.is_file():
        return [str(tools)]
    if importlib.util.find_spec("pip_audit") is not None:
        return [sys.executable, "-m", "pip_audit"]
    found = shutil.which("pip-audit")
    return [found] if found else []


def selfscan_settings(base_dir: Path, base_domain: str, *, production: bool) -> dict[str, Any]:
    default = f"https://{base_domain}" if production else f"http://{base_domain}:8000"
    url = (env_str("PORTAL_SELF_URL", default) or default).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"PORTAL_SELF_URL must be an http(s) URL, not {url!r}.")
    requirements = env_str("SELF_SCAN_REQUIREMENTS") or str(base_dir / "requirements.txt")
    return {"self_url": url, "pip_audit": _pip_audit(base_dir), "requirements": requirements}
