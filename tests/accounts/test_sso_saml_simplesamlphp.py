"""SAML sign-in against software nobody here wrote: Debian's SimpleSAMLphp as the IdP
(tests/idp/simplesamlphp.py, started by the test run on loopback).

tests/accounts/test_sso_saml.py covers the portal's rules with responses from the project's
own signer; this module shows the portal and a widely deployed IdP agree on the wire: the
admin configures the option from SimpleSAMLphp's published metadata, the portal's
AuthnRequest (HTTP-Redirect) is accepted there, the test user logs in on its form, and the
signed response SimpleSAMLphp posts is accepted by the portal's ACS. A response SimpleSAMLphp
addressed to another service provider, or one altered on the way, is refused.
"""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.urls import reverse
from lxml import etree

from accounts.models import IdentityProvider, ProviderKind, Role, User
from accounts.sso import config
from accounts.tenancy import agency_context
from tests.accounts import sso_helpers as h
from tests.idp import simplesamlphp as ssp
from tests.idp.saml import parse_authn_request, tamper

pytestmark = pytest.mark.django_db

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


def published_metadata(idp: ssp.SimpleSamlPhp) -> dict[str, str]:
    """What an admin copies from the IdP's metadata document: entity id, SSO URL, cert."""
    answer = requests.get(idp.entity_id, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(answer.content, parser)
    descriptor = root.find(f"{{{MD}}}IDPSSODescriptor")
    sso = next(
        e
        for e in descriptor.iterfind(f"{{{MD}}}SingleSignOnService")
        if e.get("Binding") == REDIRECT_BINDING
    )
    cert = descriptor.find(f".//{{{DS}}}X509Certificate")
    return {
        "idp_entity_id": root.get("entityID"),
        "idp_sso_url": sso.get("Location"),
        "idp_x509cert": "".join(cert.text.split()),
    }


@pytest.fixture
def option(client_for, tenant, simplesamlphp) -> IdentityProvider:
    """Agency A's SAML option, entered on the admin form from SimpleSAMLphp's metadata; the
    portal's SP (metadata URL as entity id, ACS URL) registered at SimpleSAMLphp."""
    published = published_metadata(simplesamlphp)
    assert published["idp_x509cert"] == simplesamlphp.cert_base64
    admin = client_for(tenant.admin, tenant.host)
    form = {
        "name": "City SimpleSAMLphp",
        "is_enabled": "on",
        "provision_role": Role.STAFF,
        "role_mapping": "",
        **published,
        "email_attribute": "mail",
        "name_attribute": "displayName",
        "groups_attribute": "",
    }
    created = admin.post(reverse("staff:provider_new", args=[ProviderKind.SAML]), form)
    assert created.status_code == 302, h.explain(created)
    with agency_context(tenant.agency):
        row = IdentityProvider.objects.get(agency=tenant.agency)
    simplesamlphp.trust_sp(entity_id(tenant.host, row), acs_url(tenant.host, row))
    return row


def acs_url(host: str, row: IdentityProvider) -> str:
    return f"http://{host}{config.callback_path(row)}"


def entity_id(host: str, row: IdentityProvider) -> str:
    return f"http://{host}{config.metadata_path(row)}"


def begin(client, row, idp) -> str:
    """Press the sign-in button; returns the redirect to SimpleSAMLphp's SSO URL."""
    response = client.post(config.sign_in_path(row), {"next": "/"})
    assert response.status_code == 302, h.explain(response)
    assert response["Location"].startswith(idp.sso_url + "?SAMLRequest=")
    return response["Location"]


def post_to_acs(client, row, answer: ssp.IdpAnswer):
    """What SimpleSAMLphp's auto-submitting form does, then the portal's redirect to its
    finishing step; returns the final answer."""
    data = {"SAMLResponse": answer.saml_response}
    if answer.relay_state:
        data["RelayState"] = answer.relay_state
    posted = client.post(urlsplit(answer.action).path, data)
    if posted.status_code != 302:
        return posted
    finish = reverse("saml_finish_acs", kwargs={"organization_slug": str(row.public_id)})
    assert posted["Location"] == finish, h.explain(posted)
    return client.get(posted["Location"])


def reissued_as(redirect_url: str, issuer: str) -> str:
    """The same AuthnRequest (same ID, same ACS URL) claiming another SP as its issuer, as
    if another SP trusted by the IdP had sent it."""
    parts = urlsplit(redirect_url)
    query = parse_qs(parts.query)
    request = parse_authn_request(redirect_url)
    xml = request.xml.replace(f">{request.issuer}<", f">{issuer}<").encode()
    deflater = zlib.compressobj(wbits=-15)
    encoded = base64.b64encode(deflater.compress(xml) + deflater.flush()).decode()
    fields = {"SAMLRequest": encoded}
    if "RelayState" in query:
        fields["RelayState"] = query["RelayState"][0]
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(fields)}"


def ssp_xml(answer: ssp.IdpAnswer) -> str:
    return base64.b64decode(answer.saml_response).decode()


def assert_refused(response, client, agency, because: str) -> None:
    assert response.status_code == 400, h.explain(response)
    assert "We couldn't sign you in" in h.text(response)
    assert h.signed_in_user_id(client) is None
    assert not User.objects.filter(email=ssp.USER_EMAIL).exists()
    assert h.identities(agency) == []
    assert len(h.events(agency, "sso.failed")) == 1
    (reason,) = h.failure_reasons(agency)
    assert because in reason
    assert "sso.login" not in h.actions(agency)


def test_simplesamlphp_signs_the_person_in_through_the_portals_acs(tenant, option, simplesamlphp):
    client = h.anonymous_client(tenant.host)
    redirect = begin(client, option, simplesamlphp)

    answer = simplesamlphp.sign_in(redirect)

    assert answer.action == acs_url(tenant.host, option)
    response = post_to_acs(client, option, answer)
    assert response.status_code == 302, h.explain(response)
    assert response["Location"] == "/staff/requests/"  # provisioned staff: their queue
    alice = User.objects.get(email=ssp.USER_EMAIL)
    assert h.signed_in_user_id(client) == alice.pk
    assert alice.full_name == ssp.USER_NAME
    assert h.membership(tenant.agency, alice).role == Role.STAFF
    (identity,) = h.identities(tenant.agency, option)
    assert (identity.user, identity.subject) == (alice, ssp.USER_UID)
    assert h.actions(tenant.agency)[-4:] == [
        "sso.linked",
        "sso.provisioned",
        "auth.login",
        "sso.login",
    ]
    (login,) = h.events(tenant.agency, "sso.login")
    assert login.actor_id == alice.pk


def test_a_response_simplesamlphp_addressed_to_another_sp_is_refused(tenant, option, simplesamlphp):
    # Another SP registered at the same IdP, posting to the same ACS URL: only the audience
    # tells the portal the assertion was meant for someone else.
    other_sp = "https://other-sp.example.org/metadata/"
    simplesamlphp.trust_sp(other_sp, acs_url(tenant.host, option))
    client = h.anonymous_client(tenant.host)
    redirect = begin(client, option, simplesamlphp)

    answer = simplesamlphp.sign_in(reissued_as(redirect, other_sp))

    assert f'InResponseTo="{parse_authn_request(redirect).id}"' in ssp_xml(answer)

    assert f"<saml:Audience>{other_sp}</saml:Audience>" in ssp_xml(answer)
    assert_refused(
        post_to_acs(client, option, answer),
        client,
        tenant.agency,
        because=f"{entity_id(tenant.host, option)} is not a valid audience",
    )


def test_a_simplesamlphp_response_altered_on_the_way_is_refused(tenant, option, simplesamlphp):
    client = h.anonymous_client(tenant.host)
    answer = simplesamlphp.sign_in(begin(client, option, simplesamlphp))
    answer.saml_response = tamper(answer.saml_response, ssp.USER_EMAIL, "mallory@example.org")

    assert_refused(
        post_to_acs(client, option, answer),
        client,
        tenant.agency,
        because="Signature validation failed",
    )
    assert not User.objects.filter(email="mallory@example.org").exists()
