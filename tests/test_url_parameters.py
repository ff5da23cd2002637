"""Every URL parameter is checked by its converter: a malformed value never reaches a view.

A view that receives text it did not expect (a filter of a UUID column with "abc", a NUL
byte in a query, a number too big for its column) answers 500, to anyone who types the
address. The cure for the whole class is in the URL table: each parameter has the narrowest
converter its view accepts (Django's ``int`` and ``uuid``, or one of the project's strict
ones in ``<app>/converters.py``), so a malformed value answers 404 before any view runs.

The fuzz test walks Django's URL resolver (every pattern, included ones too), puts malformed
values in each parameter in turn (the other parameters get real objects of the agency), and
asks with GET and POST, anonymously and as the agency's admin: never a server error, and a
value the route's converter refuses is a plain 404.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import resolve, reverse
from django.urls.converters import PathConverter, StringConverter
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ProviderKind
from tests.accounts.route_matrix import ALL_ROUTES, PARAMETER_VALUES, Route

# What goes in the parameter's place in the path, verbatim: percent escapes reach the server
# as a browser would send them, and the server decodes them.
MALFORMED = {
    "text": "not-a-uuid",
    "long": "a" * 3000,
    "traversal": "..%2F..%2Fetc",
    "nul": "%00",
    "unicode": "%C3%A9t%C3%A9%F0%9F%92%A5",
    "negative": "-1",
    "huge": "9" * 40,
    "past bigint": "9223372036854775808",
    "float": "1e9",
    "space": "%20",
    "broken escape": "%ZZ",
    "upper-case uuid": "ABCDEF01-2345-6789-ABCD-EF0123456789",
    # Well-formed for some converters, but nobody's:
    "nil uuid": "00000000-0000-0000-0000-000000000000",
    "zero": "0",
}

_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
PARAMETRISED = [route for route in ALL_ROUTES if route.parameters]


def _decoded(value: str) -> str:
    """The parameter as the resolver sees it (what Django's test client and WSGI do)."""
    raw = _ESCAPE.sub(lambda m: chr(int(m[1], 16)), value)
    return raw.encode("latin-1").decode("utf-8", "replace")


def _converter_admits(route: Route, parameter: str, value: str) -> bool:
    regex = route.converters[parameter].regex
    return re.fullmatch(f"(?:{regex})", _decoded(value)) is not None


def _other_values(tenant, user) -> dict[str, str]:
    """A real value, as URL text, for each parameter of a route with several (the fuzzed one
    is replaced; a route with one parameter needs none)."""
    names = {
        name for route in PARAMETRISED if len(route.parameters) > 1 for name in route.parameters
    }
    values: dict[str, object] = {
        name: PARAMETER_VALUES[name](tenant, user) for name in names if name in PARAMETER_VALUES
    }
    values["uidb64"] = urlsafe_base64_encode(force_bytes(tenant.requester.pk))
    values["token"] = default_token_generator.make_token(tenant.requester)
    return {name: str(value) for name, value in values.items()}


def _path(route: Route, values: dict[str, str]) -> str:
    return "/" + _PARAMETER.sub(lambda m: values[m["name"]], route.route)


def _explain(response) -> str:
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"{exc_info[0].__name__}: {str(exc_info[1])[:120]}"
    return response.get("Location", "")


@pytest.mark.parametrize("persona", ["anonymous", "admin"])
def test_no_malformed_url_parameter_reaches_a_view(tenant, client_for, persona):
    user = tenant.admin if persona == "admin" else None
    client = client_for(user, tenant.host)
    client.raise_request_exception = False  # a server error is a status to report
    others = _other_values(tenant, user)
    failures = []
    requests = 0
    for route in PARAMETRISED:
        for parameter in route.parameters:
            for label, value in MALFORMED.items():
                path = _path(route, {**others, parameter: value})
                admitted = _converter_admits(route, parameter, value)
                for method in ("get", "post"):
                    response = getattr(client, method)(path)
                    requests += 1
                    status = response.status_code
                    # Refused by the converter: the resolver's 404, no view ran. Admitted
                    # (well-formed, nobody's): the view answers, never with a server error.
                    if (status >= 500) if admitted else (status != 404):
                        failures.append(
                            f"{status} {method.upper()} {route.label} {parameter}={label}: "
                            f"{_explain(response)}"
                        )
    assert requests < 7000  # bounded: the whole walk stays under a minute
    assert not failures, f"{len(failures)} of {requests} requests:\n" + "\n".join(failures)


# --- The six sign-in routes the security probe found ----------------------------------------

SSO_ROUTES = [
    ("get", "/accounts/sso/oidc/{}/callback/"),
    ("post", "/accounts/sso/oidc/{}/login/"),
    ("get", "/accounts/sso/saml/{}/metadata/"),
    ("get", "/accounts/sso/saml/{}/acs/finish/"),
    ("post", "/accounts/sso/saml/{}/acs/"),
    ("post", "/accounts/sso/saml/{}/login/"),
]


@pytest.mark.parametrize(("method", "template"), SSO_ROUTES)
def test_sign_in_route_with_an_id_that_is_not_a_uuid_answers_404(tenant, method, template):
    client = Client(HTTP_HOST=tenant.host, raise_request_exception=False)
    response = getattr(client, method)(template.format("not-a-uuid"))
    assert response.status_code == 404, _explain(response)


@pytest.mark.parametrize(("method", "template"), SSO_ROUTES)
def test_sign_in_route_with_nobodys_uuid_answers_404(tenant, method, template):
    client = Client(HTTP_HOST=tenant.host, raise_request_exception=False)
    response = getattr(client, method)(template.format(uuid.uuid4()))
    assert response.status_code == 404, _explain(response)


# --- The URL table itself -------------------------------------------------------------------


def test_every_url_parameter_has_a_converter_narrower_than_any_text():
    loose = [
        f"{route.label}: <{name}>"
        for route in ALL_ROUTES
        for name, converter in route.converters.items()
        if type(converter) in (StringConverter, PathConverter)
    ]
    assert loose == []


def test_sso_urls_take_the_options_public_id_as_text():
    """allauth compares the id in the URL with its app's id as text (str(public_id))."""
    public_id = str(uuid.uuid4())
    for name in ("saml_login", "saml_acs", "saml_finish_acs", "saml_metadata", "saml_sls"):
        match = resolve(reverse(name, kwargs={"organization_slug": public_id}))
        assert match.kwargs == {"organization_slug": public_id}
    for name in ("accounts:oidc_login", "accounts:oidc_callback"):
        match = resolve(reverse(name, kwargs={"provider_id": public_id}))
        assert match.kwargs == {"provider_id": public_id}


def test_every_kind_of_sign_in_option_has_its_new_form_url():
    for kind in ProviderKind.values:
        assert resolve(reverse("staff:provider_new", args=[kind])).kwargs == {"kind": kind}


def test_a_password_reset_link_for_the_largest_user_id_resolves(tenant):
    uidb64 = urlsafe_base64_encode(force_bytes(2**63 - 1))
    token = default_token_generator.make_token(tenant.requester)
    for link_token in (token, "set-password"):
        url = reverse("accounts:password_reset_confirm", args=[uidb64, link_token])
        assert resolve(url).kwargs == {"uidb64": uidb64, "token": link_token}
