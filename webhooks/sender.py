"""One HTTP try of one delivery, to the address ``webhooks.targets`` checked.

Short timeouts, no redirect followed (a 3xx is a failure: the receiver must give its final
address), TLS verified against the URL's name while the connection goes to the checked
address (``sni_hostname``), nothing read of the answer but its status.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from functools import lru_cache

import httpx
from django.conf import settings

from webhooks.targets import Target

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
USER_AGENT = "RecordsPortal-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    elapsed_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(target: Target, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``target``; what came back (never raises for network trouble)."""
    sent_headers = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
    verify = _tls(getattr(settings, "WEBHOOKS_CA_FILE", "") or "")
    started = time.monotonic()
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=verify
        ) as client:
            request = client.build_request(
                "POST",
                target.connect_url,
                content=body,
                headers=sent_headers,
                extensions={"sni_hostname": target.host},
            )
            # Streamed and closed unread: only the status counts, and a receiver cannot
            # make the worker read a large answer.
            response = client.send(request, stream=True)
            response.close()
    except httpx.TimeoutException:
        return Answer(None, "The receiver did not answer in time.", _since(started))
    except httpx.HTTPError as failure:
        return Answer(None, f"Could not connect: {type(failure).__name__}", _since(started))
    elapsed = _since(started)
    if 300 <= response.status_code < 400:
        return Answer(response.status_code, "Redirects are not followed.", elapsed)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Answer(response.status_code, error, elapsed)


@lru_cache(maxsize=4)
def _tls(ca_file: str) -> ssl.SSLContext:
    """Certificates checked against the public CAs (certifi), or only ``ca_file``'s. Built
    once per process: loading the CA list costs more than a local delivery."""
    if not ca_file:
        return httpx.create_ssl_context()
    return ssl.create_default_context(cafile=ca_file)


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
