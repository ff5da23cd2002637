"""The SSRF rule: https only and public addresses only in production, checked after DNS
resolution when an address is saved and again before every send, and the connection goes to
the address that was checked (no second lookup a rebinding name could answer differently)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.requests_portal.helpers import file_request
from tests.webhooks.certificates import server_tls
from tests.webhooks.helpers import deliveries, endpoint
from tests.webhooks.receiver import Receiver
from webhooks import sender, services, targets
from webhooks.models import DeliveryState, EventType

PRIVATE = [
    "https://127.0.0.1/hooks",
    "https://127.8.9.10/",
    "https://10.0.0.5/",
    "https://172.16.4.4/",
    "https://192.168.1.10/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[::1]/",
    "https://[::]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[ff02::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "https://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
    "https://localhost/",  # a name: refused for what it resolves to
    "https://localhost./",
]


@pytest.fixture
def production_rule(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_TARGETS = False


@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize("url", PRIVATE)
def test_production_refuses_every_internal_address(url):
    with pytest.raises(targets.UnsafeTarget, match="private or internal"):
        targets.resolve(url)


@pytest.mark.usefixtures("production_rule")
@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.10/",
        "ftp://example.org/",
        "https://user:pass@example.org/",
        "https://example.org/#part",
        "https:///nohost",
        "https://exa mple.org/",
        "https://example.org:99999/",
        "",
        "javascript:alert(1)",
        "https://example.org/" + "a" * 500,
    ],
)
def test_production_refuses_what_is_not_a_plain_https_address(url):
    with pytest.raises(targets.UnsafeTarget):
        targets.resolve(url)


@pytest.mark.usefixtures("production_rule")
def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(targets.UnsafeTarget, match="could not be found"):
        targets.resolve("https://no-such-host.invalid/")


@pytest.mark.usefixtures("production_rule")
def test_a_public_address_passes_and_is_the_one_connected_to():
    target = targets.resolve("https://8.8.8.8:8443/in?x=1")
    assert target.address == ipaddress.ip_address("8.8.8.8")
    assert target.connect_url == "https://8.8.8.8:8443/in?x=1"
    assert target.host_header == "8.8.8.8:8443"


def test_tests_may_use_loopback_but_never_private_or_link_local(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_TARGETS = True
    assert targets.resolve("http://127.0.0.1:8080/").address.is_loopback
    assert targets.resolve("http://localhost:8080/").address.is_loopback
    for url in ("http://10.0.0.5/", "http://169.254.169.254/", "https://[fe80::1]/"):
        with pytest.raises(targets.UnsafeTarget):
            targets.resolve(url)


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(receiver):
    # A name nobody can resolve: had the client looked it up again, nothing would arrive.
    port = receiver.server.server_address[1]
    pinned = targets.Target(
        "http", "rebinding.invalid", port, "/hooks", ipaddress.ip_address("127.0.0.1")
    )
    answer = sender.post(pinned, b"{}", {"X-Test": "1"})
    assert answer.ok
    [got] = receiver.received
    assert got.headers["host"] == f"rebinding.invalid:{port}"


@pytest.mark.django_db
@pytest.mark.usefixtures("agency_defaults")
def test_an_address_is_checked_again_before_each_send(
    tenant, receiver, settings, django_capture_on_commit_callbacks
):
    # Saved where loopback was allowed; sent where it is not (as if the name now resolved
    # to the portal's own network): refused, nothing leaves, the log says why.
    endpoint(tenant, receiver.url_by_name(), [EventType.REQUEST_CREATED])
    settings.WEBHOOKS_ALLOW_LOOPBACK_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        file_request(tenant, requester=tenant.requester)
    [delivery] = deliveries(tenant)
    assert delivery.state == DeliveryState.PENDING
    assert delivery.last_status_code is None
    assert "https" in delivery.last_error or "private" in delivery.last_error
    assert receiver.received == []


@pytest.mark.django_db
@pytest.mark.usefixtures("agency_defaults", "production_rule")
def test_saving_an_internal_address_is_refused(tenant):
    with pytest.raises(services.WebhookError, match="private or internal"):
        endpoint(tenant, "https://169.254.169.254/latest/")


def test_over_https_the_certificate_is_checked_against_the_name_not_the_address(tmp_path, settings):
    # The receiver's certificate names receiver.test, a name nobody can resolve: the
    # connection goes to the checked address and TLS still proves the name.
    context, ca_file = server_tls(tmp_path, "receiver.test")
    settings.WEBHOOKS_CA_FILE = str(ca_file)
    with Receiver(tls=context) as tls_receiver:
        port = tls_receiver.server.server_address[1]
        loopback = ipaddress.ip_address("127.0.0.1")
        right = targets.Target("https", "receiver.test", port, "/hooks", loopback)
        assert sender.post(right, b"{}", {}).status_code == 200
        [got] = tls_receiver.received
        assert got.headers["host"] == f"receiver.test:{port}"

        wrong = targets.Target("https", "impostor.test", port, "/hooks", loopback)
        answer = sender.post(wrong, b"{}", {})
        assert answer.status_code is None and "Could not connect" in answer.error
        assert len(tls_receiver.received) == 1

    settings.WEBHOOKS_CA_FILE = ""  # the public CAs: a private CA's certificate is refused
    with Receiver(tls=context) as tls_receiver:
        port = tls_receiver.server.server_address[1]
        right = targets.Target("https", "receiver.test", port, "/hooks", loopback)
        assert sender.post(right, b"{}", {}).status_code is None
        assert tls_receiver.received == []
