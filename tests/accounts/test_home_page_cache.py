"""The agency home page for anonymous visitors comes from memory (accounts/home_page.py):
each response still carries its own CSRF token and the same cookies and headers as a
rendered page, each agency and language gets its own page, a change to the agency shows at
once, and signed-in people, messages and query strings get the page rendered."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import home_page

pytestmark = pytest.mark.django_db

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _token(response) -> str:
    found = TOKEN.findall(response.content)
    assert len(found) == 1
    return found[0].decode()


def test_the_second_anonymous_visit_is_served_from_memory_without_a_query(tenant):
    Client(HTTP_HOST=tenant.host).get("/")
    assert len(home_page._pages) == 1
    with CaptureQueriesContext(connection) as captured:
        response = Client(HTTP_HOST=tenant.host).get("/")
    assert response.status_code == 200
    assert f"{tenant.agency.name} public records".encode() in response.content
    statements = [q for q in captured.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    # The test's own transaction makes the request's context nested (set at once); a web
    # process sends nothing at all (tests/accounts/test_lazy_tenant_context.py).
    # (only the context's own statements: reading it back, savepoint, set and restore).
    assert not [q["sql"] for q in statements if re.search(r"\b(FROM|INSERT|UPDATE)\b", q["sql"])]
    assert len(statements) == 5


def test_each_response_gets_its_own_csrf_token_and_cookie(tenant):
    first = Client(HTTP_HOST=tenant.host).get("/")
    second = Client(HTTP_HOST=tenant.host).get("/")
    third = Client(HTTP_HOST=tenant.host).get("/")
    tokens = {_token(first), _token(second), _token(third)}
    assert len(tokens) == 3
    assert home_page._CSRF_SLOT.encode() not in third.content
    for response in (first, second, third):
        assert settings.CSRF_COOKIE_NAME in response.cookies


def test_the_token_of_a_page_from_memory_passes_the_csrf_check(tenant):
    client = Client(HTTP_HOST=tenant.host, enforce_csrf_checks=True)
    Client(HTTP_HOST=tenant.host).get("/")  # someone else's visit fills the cache
    page = client.get("/")
    response = client.post(
        "/i18n/setlang/", {"language": "es", "next": "/", "csrfmiddlewaretoken": _token(page)}
    )
    assert response.status_code == 302
    refused = Client(HTTP_HOST=tenant.host, enforce_csrf_checks=True)
    refused.get("/")
    assert refused.post("/i18n/setlang/", {"language": "es", "next": "/"}).status_code == 403


def test_a_page_from_memory_has_the_headers_and_cookies_of_a_rendered_one(tenant):
    rendered = Client(HTTP_HOST=tenant.host).get("/?from=newspaper")  # never from memory
    Client(HTTP_HOST=tenant.host).get("/")
    cached = Client(HTTP_HOST=tenant.host).get("/")
    for header in ("Vary", "Content-Security-Policy", "Content-Language", "Content-Type"):
        assert cached.headers.get(header) == rendered.headers.get(header), header
    assert "Cache-Control" not in cached.headers
    assert set(cached.cookies) == set(rendered.cookies)
    assert settings.SESSION_COOKIE_NAME not in cached.cookies


def test_each_agency_gets_its_own_page(tenant, other_tenant):
    for _ in range(2):
        alpha = Client(HTTP_HOST=tenant.host).get("/").content.decode()
        bravo = Client(HTTP_HOST=other_tenant.host).get("/").content.decode()
        assert tenant.agency.name in alpha and other_tenant.agency.name not in alpha
        assert other_tenant.agency.name in bravo and tenant.agency.name not in bravo


def test_each_language_gets_its_own_page(tenant):
    english = Client(HTTP_HOST=tenant.host).get("/")
    spanish = Client(HTTP_HOST=tenant.host, HTTP_ACCEPT_LANGUAGE="es").get("/")
    again = Client(HTTP_HOST=tenant.host).get("/")
    assert b'lang="es"' in spanish.content and b'lang="en"' in english.content
    assert b'lang="en"' in again.content
    assert len(home_page._pages) == 2


def test_a_change_to_the_agency_shows_at_once(tenant):
    Client(HTTP_HOST=tenant.host).get("/")
    agency = tenant.agency
    agency.name = "Renamed Records Office"
    agency.contact_email = "records@renamed.example"
    agency.save()
    body = Client(HTTP_HOST=tenant.host).get("/").content.decode()
    assert "Renamed Records Office public records" in body
    assert "records@renamed.example" in body


def test_a_signed_in_person_gets_the_page_rendered_for_them(tenant, client_for):
    Client(HTTP_HOST=tenant.host).get("/")
    body = client_for(tenant.requester, tenant.host).get("/").content.decode()
    assert tenant.requester.email in body
    assert "My requests" in body
    anonymous = Client(HTTP_HOST=tenant.host).get("/").content.decode()
    assert tenant.requester.email not in anonymous


def test_a_visitor_with_messages_or_a_session_gets_the_page_rendered(tenant):
    Client(HTTP_HOST=tenant.host).get("/")
    pages = len(home_page._pages)
    for cookie in ("messages", settings.SESSION_COOKIE_NAME):
        client = Client(HTTP_HOST=tenant.host)
        client.cookies[cookie] = "anything"
        assert client.get("/").status_code == 200
    assert len(home_page._pages) == pages
    assert home_page.anonymous_home is not None
