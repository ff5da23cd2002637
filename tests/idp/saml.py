"""A SAML 2.0 identity provider in a box: builds and signs `samlp:Response` documents the way
AD FS, Entra ID and Okta post them to an ACS URL, with a throwaway key and certificate.

    idp = TestSamlIdP()
    b64 = idp.response(acs_url=..., audience=sp_entity_id, in_response_to=request_id,
                       name_id="alice-persistent-id", attributes={"email": ["alice@..."]})
    tamper(b64, "alice", "mallory")            # same signature, changed content
    idp.response(..., signing_idp=TestSamlIdP())  # signed by someone else's key

Signatures: RSA-SHA256, SHA-256 digests, exclusive c14n, enveloped, placed right after the
signed element's Issuer; KeyInfo carries the signer's certificate. The assertion is signed
first, then (if asked) the response around it.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_XS = "http://www.w3.org/2001/XMLSchema"
NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"

NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
AC_PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
ATTRNAME_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
ATTRNAME_UNSPECIFIED = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

# Assertion lifetime used when not_on_or_after is not given (Entra ID and AD FS use minutes
# to an hour); NotBefore defaults to a little before the issue instant.
DEFAULT_LIFETIME = dt.timedelta(minutes=5)
DEFAULT_NOT_BEFORE_SKEW = dt.timedelta(seconds=30)


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _saml_time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("SAML times must be timezone-aware datetimes")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    # xs:ID must not start with a digit.
    return "_" + secrets.token_hex(20)


def tamper(saml_response_b64: str, old: str, new: str) -> str:
    """Decode a base64 SAMLResponse, replace `old` by `new` everywhere, re-encode. Raises
    ValueError if `old` does not occur (so a tampering test cannot pass vacuously)."""
    xml = base64.b64decode(saml_response_b64).decode("utf-8")
    if old not in xml:
        raise ValueError(f"{old!r} does not occur in the SAML response")
    return base64.b64encode(xml.replace(old, new).encode("utf-8")).decode("ascii")


def decode(saml_response_b64: str) -> str:
    """The XML text of a base64 SAMLResponse (handy in assertion messages)."""
    return base64.b64decode(saml_response_b64).decode("utf-8")


@dataclass(frozen=True)
class AuthnRequest:
    """What an SP put in its samlp:AuthnRequest."""

    id: str
    issuer: str | None
    acs_url: str | None
    destination: str | None
    relay_state: str | None
    xml: str


def parse_authn_request(url_or_value: str, relay_state: str | None = None) -> AuthnRequest:
    """Parse the AuthnRequest an SP sends: either the full HTTP-Redirect URL (the SAMLRequest
    and RelayState query parameters are read from it) or a bare SAMLRequest value (deflated
    and base64-encoded for HTTP-Redirect, or only base64-encoded for HTTP-POST). Its `id` is
    what the response's in_response_to must be."""
    value = url_or_value
    if "SAMLRequest=" in url_or_value:
        query = parse_qs(urlsplit(url_or_value).query)
        value = query["SAMLRequest"][0]
        relay_state = relay_state or query.get("RelayState", [None])[0]
    raw = base64.b64decode(value)
    try:
        xml = zlib.decompress(raw, -15)
    except zlib.error:
        xml = raw
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(xml, parser)
    if root.tag != _q(NS_SAMLP, "AuthnRequest"):
        raise ValueError(f"not a samlp:AuthnRequest: {root.tag}")
    issuer = root.find(_q(NS_SAML, "Issuer"))
    return AuthnRequest(
        id=root.get("ID"),
        issuer=issuer.text if issuer is not None else None,
        acs_url=root.get("AssertionConsumerServiceURL"),
        destination=root.get("Destination"),
        relay_state=relay_state,
        xml=xml.decode("utf-8"),
    )


class TestSamlIdP:
    """A SAML IdP with its own RSA-2048 key and self-signed certificate."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(
        self,
        entity_id: str = "https://idp.example.test/saml",
        sso_url: str = "https://idp.example.test/sso",
        *,
        slo_url: str | None = None,
    ) -> None:
        self.entity_id = entity_id
        self.sso_url = sso_url
        self.slo_url = slo_url
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test SAML IdP")])
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.key_pem: str = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        self.cert_pem: str = self.certificate.public_bytes(serialization.Encoding.PEM).decode(
            "ascii"
        )
        self.cert_base64: str = base64.b64encode(
            self.certificate.public_bytes(serialization.Encoding.DER)
        ).decode("ascii")

    def __repr__(self) -> str:
        return f"TestSamlIdP(entity_id={self.entity_id!r})"

    # ---- configuration helpers ----------------------------------------------------------
    def python3_saml_idp_settings(self) -> dict:
        """The "idp" part of python3-saml settings for this IdP."""
        idp = {
            "entityId": self.entity_id,
            "singleSignOnService": {"url": self.sso_url, "binding": BINDING_REDIRECT},
            "x509cert": self.cert_base64,
        }
        if self.slo_url:
            idp["singleLogoutService"] = {"url": self.slo_url, "binding": BINDING_REDIRECT}
        return idp

    def metadata_xml(self) -> str:
        """IdP metadata (EntityDescriptor) with the signing certificate and SSO endpoint."""
        root = etree.Element(_q(NS_MD, "EntityDescriptor"), nsmap={"md": NS_MD, "ds": NS_DS})
        root.set("entityID", self.entity_id)
        sso = etree.SubElement(root, _q(NS_MD, "IDPSSODescriptor"))
        sso.set("WantAuthnRequestsSigned", "false")
        sso.set("protocolSupportEnumeration", NS_SAMLP)
        key = etree.SubElement(sso, _q(NS_MD, "KeyDescriptor"), use="signing")
        info = etree.SubElement(key, _q(NS_DS, "KeyInfo"))
        data = etree.SubElement(info, _q(NS_DS, "X509Data"))
        etree.SubElement(data, _q(NS_DS, "X509Certificate")).text = self.cert_base64
        for binding in (BINDING_REDIRECT, BINDING_POST):
            if self.slo_url:
                etree.SubElement(
                    sso, _q(NS_MD, "SingleLogoutService"), Binding=binding, Location=self.slo_url
                )
        etree.SubElement(sso, _q(NS_MD, "NameIDFormat")).text = NAMEID_PERSISTENT
        for binding in (BINDING_REDIRECT, BINDING_POST):
            etree.SubElement(
                sso, _q(NS_MD, "SingleSignOnService"), Binding=binding, Location=self.sso_url
            )
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")

    # ---- responses ----------------------------------------------------------------------
    def response(
        self,
        *,
        acs_url: str,
        audience: str,
        in_response_to: str | None,
        name_id: str,
        attributes: dict[str, list[str]] | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        assertion_id: str | None = None,
        response_id: str | None = None,
        issue_instant: dt.datetime | None = None,
        not_before: dt.datetime | None = None,
        not_on_or_after: dt.datetime | None = None,
        issuer: str | None = None,
        session_index: str | None = None,
        name_id_format: str = NAMEID_PERSISTENT,
        signing_idp: TestSamlIdP | None = None,
    ) -> str:
        """A base64-encoded samlp:Response for `acs_url` (the HTTP-POST binding's
        SAMLResponse form field).

        in_response_to=None makes an unsolicited (IdP-initiated) response. Times are
        timezone-aware datetimes: issue_instant defaults to now, not_before to 30 s before it,
        not_on_or_after (Conditions and SubjectConfirmationData) to 5 minutes after it.
        issuer overrides the entity id in both Issuer elements. signing_idp signs with another
        IdP's key (and puts that IdP's certificate in KeyInfo)."""
        signer = signing_idp or self
        issued = issue_instant or dt.datetime.now(dt.UTC)
        valid_from = not_before or issued - DEFAULT_NOT_BEFORE_SKEW
        valid_until = not_on_or_after or issued + DEFAULT_LIFETIME
        issuer_value = self.entity_id if issuer is None else issuer
        response_id = response_id or _new_id()
        assertion_id = assertion_id or _new_id()

        response = etree.Element(_q(NS_SAMLP, "Response"), nsmap={"samlp": NS_SAMLP})
        response.set("ID", response_id)
        response.set("Version", "2.0")
        response.set("IssueInstant", _saml_time(issued))
        response.set("Destination", acs_url)
        if in_response_to is not None:
            response.set("InResponseTo", in_response_to)
        etree.SubElement(
            response, _q(NS_SAML, "Issuer"), nsmap={"saml": NS_SAML}
        ).text = issuer_value
        status = etree.SubElement(response, _q(NS_SAMLP, "Status"))
        etree.SubElement(status, _q(NS_SAMLP, "StatusCode"), Value=STATUS_SUCCESS)

        assertion = etree.SubElement(
            response,
            _q(NS_SAML, "Assertion"),
            nsmap={"saml": NS_SAML, "xsi": NS_XSI, "xs": NS_XS},
        )
        assertion.set("ID", assertion_id)
        assertion.set("Version", "2.0")
        assertion.set("IssueInstant", _saml_time(issued))
        etree.SubElement(assertion, _q(NS_SAML, "Issuer")).text = issuer_value

        subject = etree.SubElement(assertion, _q(NS_SAML, "Subject"))
        name = etree.SubElement(subject, _q(NS_SAML, "NameID"), Format=name_id_format)
        name.set("SPNameQualifier", audience)
        name.text = name_id
        confirmation = etree.SubElement(
            subject, _q(NS_SAML, "SubjectConfirmation"), Method=CM_BEARER
        )
        confirmation_data = etree.SubElement(confirmation, _q(NS_SAML, "SubjectConfirmationData"))
        if in_response_to is not None:
            confirmation_data.set("InResponseTo", in_response_to)
        confirmation_data.set("NotOnOrAfter", _saml_time(valid_until))
        confirmation_data.set("Recipient", acs_url)

        conditions = etree.SubElement(assertion, _q(NS_SAML, "Conditions"))
        conditions.set("NotBefore", _saml_time(valid_from))
        conditions.set("NotOnOrAfter", _saml_time(valid_until))
        restriction = etree.SubElement(conditions, _q(NS_SAML, "AudienceRestriction"))
        etree.SubElement(restriction, _q(NS_SAML, "Audience")).text = audience

        authn = etree.SubElement(assertion, _q(NS_SAML, "AuthnStatement"))
        authn.set("AuthnInstant", _saml_time(issued))
        authn.set("SessionIndex", session_index or _new_id())
        context = etree.SubElement(authn, _q(NS_SAML, "AuthnContext"))
        etree.SubElement(context, _q(NS_SAML, "AuthnContextClassRef")).text = AC_PASSWORD_PROTECTED

        if attributes:
            statement = etree.SubElement(assertion, _q(NS_SAML, "AttributeStatement"))
            for attr_name, values in attributes.items():
                if isinstance(values, str):
                    raise TypeError(f"attribute {attr_name!r}: give a list of strings")
                uri_like = "://" in attr_name or attr_name.startswith("urn:")
                attribute = etree.SubElement(statement, _q(NS_SAML, "Attribute"))
                attribute.set("Name", attr_name)
                attribute.set("NameFormat", ATTRNAME_URI if uri_like else ATTRNAME_UNSPECIFIED)
                for value in values:
                    element = etree.SubElement(attribute, _q(NS_SAML, "AttributeValue"))
                    element.set(_q(NS_XSI, "type"), "xs:string")
                    element.text = value

        if sign_assertion:
            signer._sign(assertion)
        if sign_response:
            signer._sign(response)
        xml = etree.tostring(response, xml_declaration=True, encoding="UTF-8")
        return base64.b64encode(xml).decode("ascii")

    def _sign(self, element: etree._Element) -> None:
        """Enveloped RSA-SHA256 signature over `element`, inserted after its Issuer."""
        signature = xmlsec.template.create(
            element,
            xmlsec.constants.TransformExclC14N,
            xmlsec.constants.TransformRsaSha256,
            ns="ds",
        )
        element.find(_q(NS_SAML, "Issuer")).addnext(signature)
        reference = xmlsec.template.add_reference(
            signature, xmlsec.constants.TransformSha256, uri="#" + element.get("ID")
        )
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
        xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
        key_info = xmlsec.template.ensure_key_info(signature)
        x509_data = xmlsec.template.add_x509_data(key_info)
        xmlsec.template.x509_data_add_certificate(x509_data)

        xmlsec.tree.add_ids(element.getroottree().getroot(), ["ID"])
        context = xmlsec.SignatureContext()
        key = xmlsec.Key.from_memory(self.key_pem, xmlsec.constants.KeyDataFormatPem)
        key.load_cert_from_memory(self.cert_pem, xmlsec.constants.KeyDataFormatCertPem)
        context.key = key
        context.sign(signature)
