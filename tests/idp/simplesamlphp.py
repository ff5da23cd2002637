"""A real SAML identity provider for SSO tests: Debian's SimpleSAMLphp under PHP's built-in
web server.

`start_simplesamlphp(workdir)` writes a private config directory (config.php,
authsources.php with one `exampleauth:UserPass` user, the hosted IdP's metadata with a key and
certificate generated here) and runs `php -S 127.0.0.1:<free port> -t <its www dir>` with
SIMPLESAMLPHP_CONFIG_DIR pointing at it, so nothing under /etc is read or written.

`SimpleSamlPhp.trust_sp(entity_id, acs_url)` (re)writes the remote-SP metadata; SimpleSAMLphp
reads its metadata files on every request, so a test can register the portal's SP after it
has created the provider row. `sign_in(url)` plays the browser: it follows the AuthnRequest to
the login form, posts the test user's credentials and returns the auto-submitting form's
SAMLResponse, RelayState and target (the ACS URL), without posting it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
    require_executable,
)

SIMPLESAMLPHP_DIR = Path("/usr/share/simplesamlphp")
WWW_DIR = SIMPLESAMLPHP_DIR / "www"
PACKAGES_HINT = "install the Debian packages simplesamlphp, php-cli, php-xml and php-mbstring"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

USERNAME = "alice"
PASSWORD = "alice-password"  # the test user's, on a loopback-only test IdP
USER_UID = "alice-7f3a"  # the persistent NameID SimpleSAMLphp sends for her
USER_EMAIL = "alice@example.org"
USER_NAME = "Alice Admin"

_HTTP_TIMEOUT = 10


def simplesamlphp_unavailable_reason() -> str | None:
    """Why SimpleSAMLphp cannot be started here, or None when it can."""
    try:
        php = require_executable("php")
    except ServiceUnavailable:
        return f"`php` is not installed; {PACKAGES_HINT}"
    # Without DOM (php-xml) or mbstring SimpleSAMLphp starts but fails on every request.
    probe = "exit(extension_loaded('dom') && extension_loaded('mbstring') ? 0 : 1);"
    if subprocess.run([php, "-r", probe], check=False, timeout=30).returncode != 0:  # noqa: S603
        return f"PHP lacks the dom or mbstring extension; {PACKAGES_HINT}"
    if not (WWW_DIR / "saml2" / "idp" / "SSOService.php").exists():
        return f"SimpleSAMLphp is not installed under {SIMPLESAMLPHP_DIR}; {PACKAGES_HINT}"
    return None


def _php(value: object) -> str:
    """A Python str / bool / list / dict as a PHP literal (strings single-quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_php(v) for v in value) + "]"
    if isinstance(value, dict):
        return "[" + ", ".join(f"{_php(k)} => {_php(v)}" for k, v in value.items()) + "]"
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def _write_php(path: Path, variable: str, value: dict) -> None:
    """A PHP file that sets `$variable` to `value` (the shape SimpleSAMLphp includes: config.php
    and authsources.php set $config, metadata files set $metadata keyed by entity id)."""
    path.write_text(f"<?php\n${variable} = {_php(value)};\n")


def _key_and_certificate(common_name: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


class _Forms(HTMLParser):
    """Each <form>'s action and its inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag in ("input", "button") and self.forms and values.get("name"):
            self.forms[-1][1].setdefault(values["name"], values.get("value", ""))


def parse_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class IdpAnswer:
    """The IdP's auto-submitting form: where it posts and what."""

    action: str
    saml_response: str
    relay_state: str | None


@dataclass
class SimpleSamlPhp:
    base_url: str
    config_dir: Path
    cert_pem: bytes
    process: ServerProcess
    remote_sps: dict[str, dict] = field(default_factory=dict)

    @property
    def entity_id(self) -> str:
        return f"{self.base_url}/saml2/idp/metadata.php"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml2/idp/SSOService.php"

    @property
    def cert_base64(self) -> str:
        """The signing certificate as an admin pastes it (base64 DER, no PEM armour)."""
        lines = self.cert_pem.decode().strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))

    def trust_sp(self, entity_id: str, acs_url: str) -> None:
        """Register a service provider (persistent NameID from the `uid` attribute)."""
        self.remote_sps[entity_id] = {
            "AssertionConsumerService": acs_url,
            "NameIDFormat": NAMEID_PERSISTENT,
            "simplesaml.nameidattribute": "uid",
        }
        _write_php(
            self.config_dir / "metadata" / "saml20-sp-remote.php", "metadata", self.remote_sps
        )

    def sign_in(self, url: str, *, username: str = USERNAME, password: str = PASSWORD):
        """Follow `url` (the portal's redirect to the SSO URL) with a fresh browser, log in on
        the UserPass form and return the IdP's answer (IdpAnswer)."""
        browser = requests.Session()
        page = browser.get(url, timeout=_HTTP_TIMEOUT)
        page.raise_for_status()
        (action, fields) = next(f for f in parse_forms(page.text) if "password" in f[1])
        fields = dict(fields, username=username, password=password)
        answer = browser.post(urljoin(page.url, action), data=fields, timeout=_HTTP_TIMEOUT)
        answer.raise_for_status()
        forms = [f for f in parse_forms(answer.text) if "SAMLResponse" in f[1]]
        if len(forms) != 1:
            raise AssertionError(f"no SAMLResponse form from SimpleSAMLphp: {answer.text[:2000]}")
        action, fields = forms[0]
        return IdpAnswer(action, fields["SAMLResponse"], fields.get("RelayState"))

    def stop(self) -> None:
        self.process.stop()


def _write_config(config_dir: Path, base_url: str) -> bytes:
    """Write SimpleSAMLphp's configuration under `config_dir`; returns the IdP's cert (PEM)."""
    work = config_dir.parent
    for sub in ("metadata", "cert", "log", "data", "tmp", "sessions"):
        (work / sub if sub != "metadata" else config_dir / sub).mkdir(parents=True, exist_ok=True)
    key_pem, cert_pem = _key_and_certificate("simplesamlphp-test-idp")
    (work / "cert" / "idp.key").write_bytes(key_pem)
    (work / "cert" / "idp.crt").write_bytes(cert_pem)
    config = {
        "baseurlpath": base_url + "/",
        "certdir": str(work / "cert") + "/",
        "loggingdir": str(work / "log") + "/",
        "datadir": str(work / "data") + "/",
        "tempdir": str(work / "tmp"),
        "metadatadir": str(config_dir / "metadata") + "/",
        "metadata.sources": [{"type": "flatfile", "directory": str(config_dir / "metadata")}],
        "secretsalt": secrets.token_hex(16),
        "auth.adminpassword": secrets.token_hex(16),
        "admin.protectindexpage": True,
        "admin.protectmetadata": False,
        "technicalcontact_name": "Portal tests",
        "technicalcontact_email": "tests@example.org",
        "timezone": "UTC",
        "logging.handler": "errorlog",  # PHP's built-in server writes it to stderr
        "logging.level": 7,  # debug: a failing test shows why SimpleSAMLphp refused
        "enable.saml20-idp": True,
        "module.enable": {"exampleauth": True, "core": True, "saml": True},
        "store.type": "phpsession",
        "session.phpsession.savepath": str(work / "sessions"),
        # The test talks plain http on loopback: a secure-only cookie would never come back.
        "session.cookie.secure": False,
        "language.default": "en",
    }
    _write_php(config_dir / "config.php", "config", config)
    _write_php(
        config_dir / "authsources.php",
        "config",
        {
            "example-userpass": {
                0: "exampleauth:UserPass",
                f"{USERNAME}:{PASSWORD}": {
                    "uid": [USER_UID],
                    "mail": [USER_EMAIL],
                    "displayName": [USER_NAME],
                },
            }
        },
    )
    entity_id = f"{base_url}/saml2/idp/metadata.php"
    _write_php(
        config_dir / "metadata" / "saml20-idp-hosted.php",
        "metadata",
        {
            entity_id: {
                "host": "__DEFAULT__",
                "privatekey": "idp.key",
                "certificate": "idp.crt",
                "auth": "example-userpass",
            }
        },
    )
    _write_php(config_dir / "metadata" / "saml20-sp-remote.php", "metadata", {})
    return cert_pem


def start_simplesamlphp(workdir: Path, attempts: int = 3) -> SimpleSamlPhp:
    """Start SimpleSAMLphp in `workdir`; the caller stops it. Raises ServiceUnavailable when
    PHP or the package is missing, ServerStartError when it does not come up."""
    reason = simplesamlphp_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    php = require_executable("php")
    last: ServerStartError | None = None
    for attempt in range(attempts):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        config_dir = workdir / f"run-{attempt}" / "config"
        cert_pem = _write_config(config_dir, base_url)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        env["SIMPLESAMLPHP_CONFIG_DIR"] = str(config_dir)
        process = ServerProcess(
            f"simplesamlphp-{attempt}",
            [php, "-S", f"127.0.0.1:{port}", "-t", str(WWW_DIR)],
            workdir,
            env=env,
        )
        idp = SimpleSamlPhp(base_url, config_dir, cert_pem, process)

        def metadata_served(idp: SimpleSamlPhp = idp) -> bool:
            answer = requests.get(idp.entity_id, timeout=_HTTP_TIMEOUT)
            return answer.status_code == 200 and "IDPSSODescriptor" in answer.text

        try:
            process.wait_until(metadata_served, what="its IdP metadata")
        except ServerStartError as exc:
            process.stop()
            if not port_in_use_failure(exc):
                raise
            last = exc
            continue
        return idp
    assert last is not None
    raise last
