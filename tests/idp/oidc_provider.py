"""A real OpenID Connect provider (panva's oidc-provider on Node.js) for SSO tests.

`start_oidc_provider(redirect_uris=[...])` is a context manager: it writes a JSON config to a
temp directory, runs `node tests/idp/oidc/provider.mjs CONFIG` on 127.0.0.1:<free port>,
waits for READY and for the discovery document, and stops node on exit.

The provider: issuer `http://127.0.0.1:<port>` (no trailing slash); authorization code flow
only; PKCE with S256 required of every request; client_secret_basic and client_secret_post
both accepted at the token endpoint; RS256 ID tokens signed with a key generated at startup
(JWKS at /jwks); every granted claim is in the ID token and at userinfo (/me). Claims by
scope: openid -> sub plus every non-standard claim an account carries (tid, hd, groups...),
email -> email, email_verified; profile -> name, given_name, family_name, ...

`OidcProvider.authorize(url, account=...)` plays the browser: it follows the provider's
redirects, posts the account on the login form (consent is granted automatically), and
returns the redirect to the client's redirect_uri without following it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
    require_executable,
)

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
PROVIDER_SCRIPT = OIDC_DIR / "provider.mjs"
INSTALL_HINT = "run `npm ci --prefix tests/idp/oidc`"

DEFAULT_ACCOUNTS: dict[str, dict] = {
    "alice": {"email": "alice@example.org", "email_verified": True, "name": "Alice Admin"},
    "bob": {"email": "bob@example.org", "email_verified": True, "name": "Bob Staff"},
    "mallory": {"email": "mallory@example.org", "email_verified": True, "name": "Mallory"},
}

_MAX_HOPS = 20
_HTTP_TIMEOUT = 10


class OidcAuthorizeError(AssertionError):
    """The provider answered the authorization request with something other than a redirect
    to the client (typically an error page: unknown client, unregistered redirect_uri)."""


def oidc_provider_unavailable_reason() -> str | None:
    """Why the provider cannot be started here, or None when it can."""
    try:
        require_executable("node")
    except ServiceUnavailable:
        return f"Node.js (`node`) is not installed; install Node.js 20+ and {INSTALL_HINT}"
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return f"tests/idp/oidc/node_modules is missing: {INSTALL_HINT}"
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _FormParser(HTMLParser):
    """Collects <form> elements: action, method and named inputs with their values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "id": values.get("id", ""),
                    "action": values.get("action", ""),
                    "method": values.get("method", "get").lower(),
                    "fields": {},
                }
            )
        elif tag in ("input", "button") and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value", "")


def _forms(html: str) -> list[dict]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    accounts: dict[str, dict]
    process: ServerProcess | None = field(default=None, repr=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/me"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    def metadata(self) -> dict:
        response = requests.get(self.discovery_url, timeout=_HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()

    def authorize(self, authorization_url: str, *, account: str = "alice") -> str:
        """Drive login (as `account`, a key of `accounts`) and consent for the authorization
        request in `authorization_url`; return the URL the provider finally redirects the
        browser to outside its own origin (redirect_uri?code=...&state=... or ?error=...)."""
        own_origin = _origin(self.issuer)
        if _origin(authorization_url) != own_origin:
            raise ValueError(f"{authorization_url} is not on the provider {self.issuer}")
        with requests.Session() as browser:
            url = authorization_url
            response = browser.get(url, allow_redirects=False, timeout=_HTTP_TIMEOUT)
            for _hop in range(_MAX_HOPS):
                if response.is_redirect:
                    url = urljoin(url, response.headers["Location"])
                    if _origin(url) != own_origin:
                        return url
                    response = browser.get(url, allow_redirects=False, timeout=_HTTP_TIMEOUT)
                    continue
                login = [f for f in _forms(response.text) if f["id"] == "login"]
                if response.status_code == 200 and login:
                    form = login[0]
                    fields = {**form["fields"], "account": account}
                    url = urljoin(url, form["action"])
                    response = browser.post(
                        url, data=fields, allow_redirects=False, timeout=_HTTP_TIMEOUT
                    )
                    continue
                raise OidcAuthorizeError(
                    f"the provider answered {url} with HTTP {response.status_code} instead "
                    f"of a redirect to the client:\n{response.text[:2000]}"
                )
        raise OidcAuthorizeError(f"more than {_MAX_HOPS} hops on the provider")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def _clean_claims(claims: dict) -> dict:
    """Claims with None values dropped (None means "leave this claim out")."""
    return {name: value for name, value in claims.items() if value is not None}


@contextlib.contextmanager
def start_oidc_provider(
    *,
    redirect_uris: list[str],
    accounts: dict[str, dict] | None = None,
    client_id: str = "portal-test",
    client_secret: str | None = None,
    token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107 - not a secret
    pkce_required: bool = True,
    attempts: int = 3,
) -> Iterator[OidcProvider]:
    """Run a provider with one confidential client until the `with` block ends.

    accounts: login name -> claims. A claim set to None is left out. email_verified defaults
    to True when an email is given. The subject is the account's "sub" claim if given, the
    login name otherwise. Raises ServiceUnavailable when node or node_modules is missing.
    """
    reason = oidc_provider_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    node = require_executable("node")
    if client_secret is None:
        client_secret = secrets.token_urlsafe(24)
    account_claims = {}
    for login, claims in (DEFAULT_ACCOUNTS if accounts is None else accounts).items():
        claims = dict(claims)
        if "email" in claims:
            claims.setdefault("email_verified", True)
        account_claims[login] = _clean_claims(claims)

    with tempfile.TemporaryDirectory(prefix="oidc-provider-") as tmp:
        workdir = Path(tmp)
        provider: OidcProvider | None = None
        for attempt in range(attempts):
            port = free_port()
            issuer = f"http://127.0.0.1:{port}"
            config_path = workdir / f"config-{attempt}.json"
            config_path.write_text(
                json.dumps(
                    {
                        "host": "127.0.0.1",
                        "port": port,
                        "issuer": issuer,
                        "clients": [
                            {
                                "client_id": client_id,
                                "client_secret": client_secret,
                                "redirect_uris": list(redirect_uris),
                                "token_endpoint_auth_method": token_endpoint_auth_method,
                            }
                        ],
                        "accounts": account_claims,
                        "options": {"pkce_required": pkce_required},
                    },
                    indent=2,
                )
            )
            process = ServerProcess(
                f"oidc-provider-{attempt}",
                [node, str(PROVIDER_SCRIPT), str(config_path)],
                workdir,
                cwd=OIDC_DIR,
            )
            provider = OidcProvider(
                issuer=issuer,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=list(redirect_uris),
                accounts=account_claims,
                process=process,
            )

            def ready(process=process, provider=provider) -> bool:
                if "READY" not in process.stdout():
                    return False
                return provider.metadata()["issuer"] == provider.issuer

            try:
                process.wait_until(ready, what="READY and the discovery document")
            except ServerStartError as exc:
                process.stop()
                if port_in_use_failure(exc) and attempt + 1 < attempts:
                    continue
                raise
            break
        assert provider is not None
        try:
            yield provider
        finally:
            provider.stop()
