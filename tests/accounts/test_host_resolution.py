"""The Host header decides the tenant: <slug>.<base>, an agency's custom domain, or the bare
base domain (the platform). Anything else answers the portal's own 404 page, never 400 or
500."""

import pytest
from django.conf import settings
from django.test import Client

from accounts.tenancy import PLATFORM, parse_host, resolve_host
from tests.factories import AgencyFactory

BASE = settings.PORTAL_BASE_DOMAIN
CUSTOM_DOMAIN = "records.alpha.example"


def get(host: str, path: str = "/"):
    return Client(HTTP_HOST=host).get(path)


def assert_portal_404(response) -> None:
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


# --- Hosts that name no agency ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host",
    [
        f"nosuch.{BASE}",
        f"NOSUCH.{BASE}:8000",
        f"a.b.{BASE}",
        f"a.alpha.{BASE}",  # nested under a real agency's subdomain
        f"www.alpha.{BASE}",
        f"{BASE}.evil.example",
        f"alpha{BASE}",  # the base domain's name glued on without a dot
        "records.unknown.example",
    ],
)
def test_unknown_or_nested_subdomain_gets_the_portal_404(tenant, host):
    assert_portal_404(get(host))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "host",
    [
        "bad_host!",
        "exa mple",
        "x" * 300,
        "host:99999999",
        "",
        ":",
        ":80",
        f"alpha.{BASE}:",
        f"alpha.{BASE}:abc",
        f"alpha.{BASE}:80:80",
        f"alpha.{BASE}:-1",
        f"alpha.{BASE}:99999",  # five digits, but no such port
        f"alpha.{BASE}:65536",
        f"alpha..{BASE}",
        f".alpha.{BASE}",
        f"-alpha.{BASE}",
        f"alpha-.{BASE}",
        f"{'a' * 64}.{BASE}",  # a label longer than 63 characters
        f"alpha_1.{BASE}",
        f"alpha.{BASE}/path",
        f"user@alpha.{BASE}",
        "[::1]",
        "[::1]:8000",
        "127.0.0.1:8000",
        f"alpha.{BASE}\x00",
        f"älpha.{BASE}",
        f"alpha.{BASE}:\uff18\uff10",  # full-width digits are not a port
        ".",
    ],
)
def test_malformed_host_gets_the_portal_404_never_400_or_500(tenant, host):
    assert_portal_404(get(host))


@pytest.mark.django_db
def test_malformed_host_gets_404_on_staff_urls_too(tenant):
    assert_portal_404(get("bad_host!", "/staff/"))
    assert_portal_404(get("x" * 300, "/accounts/login/"))


@pytest.mark.django_db
def test_inactive_agency_gets_the_portal_404_on_its_subdomain(tenant):
    tenant.agency.is_active = False
    tenant.agency.save()
    assert_portal_404(get(tenant.host))
    assert_portal_404(get(tenant.host, "/accounts/login/"))


@pytest.mark.django_db
def test_inactive_agency_gets_the_portal_404_on_its_custom_domain(tenant):
    tenant.agency.custom_domain = CUSTOM_DOMAIN
    tenant.agency.is_active = False
    tenant.agency.save()
    assert_portal_404(get(CUSTOM_DOMAIN))


@pytest.mark.django_db
def test_the_404_page_does_not_echo_the_host(tenant):
    body = get("evil-marker-host.example").content.decode()
    assert "evil-marker-host" not in body


# --- The platform ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_bare_base_domain_serves_the_platform_home_listing_active_agencies(tenant, other_tenant):
    AgencyFactory(slug="dormant", name="Dormant Closed Agency", is_active=False)
    response = get(BASE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose the agency" in body
    assert tenant.agency.name in body
    assert other_tenant.agency.name in body
    assert "Dormant Closed Agency" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("host", [BASE.upper(), f"{BASE}:8000", f"{BASE}.", f"{BASE.upper()}:443"])
def test_bare_base_domain_matches_case_insensitively_and_ignores_the_port(tenant, host):
    response = get(host)
    assert response.status_code == 200
    assert tenant.agency.name in response.content.decode()


# --- Agencies --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_agency_subdomain_serves_that_agency_home(tenant, other_tenant):
    body = get(tenant.host).content.decode()
    assert tenant.agency.name in body
    assert other_tenant.agency.name not in body


@pytest.mark.django_db
def test_custom_domain_resolves_to_its_agency(tenant, other_tenant):
    tenant.agency.custom_domain = CUSTOM_DOMAIN
    tenant.agency.save()
    response = get(CUSTOM_DOMAIN)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"{tenant.agency.name} public records" in body
    assert other_tenant.agency.name not in body
    assert resolve_host(CUSTOM_DOMAIN) == tenant.agency


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variant",
    [
        CUSTOM_DOMAIN.upper(),
        "Records.Alpha.Example",
        f"{CUSTOM_DOMAIN}:8443",
        f"{CUSTOM_DOMAIN.upper()}:80",
        f"{CUSTOM_DOMAIN}.",
    ],
)
def test_custom_domain_matches_case_insensitively_and_ignores_the_port(tenant, variant):
    tenant.agency.custom_domain = CUSTOM_DOMAIN
    tenant.agency.save()
    response = get(variant)
    assert response.status_code == 200
    assert f"{tenant.agency.name} public records" in response.content.decode()


@pytest.mark.django_db
def test_custom_domain_subdomain_does_not_resolve_to_the_agency(tenant):
    tenant.agency.custom_domain = CUSTOM_DOMAIN
    tenant.agency.save()
    assert_portal_404(get(f"www.{CUSTOM_DOMAIN}"))
    assert_portal_404(get("alpha.example"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "variant",
    [
        "ALPHA.{base}",
        "Alpha.{Base}",
        "alpha.{base}:8000",
        "ALPHA.{Base}:443",
        "alpha.{base}:65535",
        "alpha.{base}.",
        "alpha.{base}.:8000",
    ],
)
def test_agency_host_matches_case_insensitively_and_ignores_a_valid_port(tenant, variant):
    host = variant.format(base=BASE, Base=BASE.upper())
    response = get(host)
    assert response.status_code == 200
    assert f"{tenant.agency.name} public records" in response.content.decode()


@pytest.mark.django_db
def test_resolve_host_names_the_platform_an_agency_or_nothing(tenant):
    assert resolve_host(BASE) is PLATFORM
    assert resolve_host(f"{BASE.upper()}:8000") is PLATFORM
    assert resolve_host(tenant.host) == tenant.agency
    assert resolve_host(f"nosuch.{BASE}") is None
    assert resolve_host(f"a.alpha.{BASE}") is None
    assert resolve_host("bad_host!") is None


# --- parse_host ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.org", "example.org"),
        ("EXAMPLE.Org", "example.org"),
        ("example.org:8000", "example.org"),
        ("example.org:0", "example.org"),
        ("example.org:65535", "example.org"),
        ("example.org.", "example.org"),
        ("example.org.:443", "example.org"),
        ("localhost", "localhost"),
        ("a", "a"),
        ("0", "0"),
        ("a-b.c-d", "a-b.c-d"),
        ("123.example", "123.example"),
        ("x" * 63 + ".org", "x" * 63 + ".org"),
        # 253 characters in all: the longest name DNS allows.
        (".".join(["x" * 63] * 3 + ["x" * 61]), ".".join(["x" * 63] * 3 + ["x" * 61])),
    ],
)
def test_parse_host_accepts_and_normalises_valid_hosts(raw, expected):
    assert parse_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        ".",
        "..",
        ":",
        ":80",
        "example.org:",
        "example.org:abc",
        "example.org:123456",
        "host:99999999",
        "example.org:-1",
        "example.org:+80",
        "example.org: 80",
        "example.org:80:80",
        "example.org:\uff18\uff10",
        "[::1]",
        "[::1]:8000",
        "::1",
        "bad_host!",
        "exa mple",
        "exa\tmple",
        "example.org\x00",
        "ex%61mple.org",
        "user@example.org",
        "example.org/path",
        "example.org?x",
        "example..org",
        ".example.org",
        "-example.org",
        "example-.org",
        "exam_ple.org",
        "éxample.org",
        "x" * 64 + ".org",
        "x" * 300,
        ".".join(["x" * 63] * 3 + ["x" * 62]),  # 254 characters
    ],
)
def test_parse_host_rejects_malformed_hosts(raw):
    assert parse_host(raw) is None


@pytest.mark.django_db
@pytest.mark.parametrize("host", [" alpha.{base}", "alpha.{base} ", "\talpha.{base}", " {base}"])
def test_host_with_surrounding_whitespace_gets_the_portal_404_not_400(tenant, host):
    assert_portal_404(get(host.format(base=BASE)))


@pytest.mark.parametrize(
    "raw", ["alpha.localhost\n:80", "example.org\n:443", " example.org", "example.org\n"]
)
def test_parse_host_rejects_control_characters_and_whitespace(raw):
    assert parse_host(raw) is None
