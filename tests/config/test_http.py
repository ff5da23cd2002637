"""Security headers, private-page caching and error pages."""

import datetime

import pytest
from django.test import Client, override_settings
from django.urls import path

from config import views


def boom(request):
    raise RuntimeError("secret internals: /srv/app/settings.py password=hunter2")


urlpatterns = [path("boom/", boom)]
handler500 = "config.views.server_error"


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client_for, tenant):
    response = client_for(None, tenant.host).get("/")
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_private_pages_are_not_cached(client_for, tenant):
    response = client_for(tenant.admin, tenant.host).get("/staff/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_state_changes_need_a_csrf_token(tenant):
    client = Client(HTTP_HOST=tenant.host, enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@b.test", "password": "x"})
    assert response.status_code == 403


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_page_shows_a_reference_and_leaks_nothing(tenant):
    client = Client(HTTP_HOST=tenant.host, raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert response["X-Request-ID"] in body
    for leak in ("secret internals", "hunter2", "Traceback", "settings.py"):
        assert leak not in body


@pytest.mark.django_db
def test_health_check_answers_on_the_platform_host(settings):
    response = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_health_check_fails_when_the_audit_log_has_no_partition_for_next_month(
    settings, monkeypatch, caplog
):
    """Years from now no partition exists: the check answers 503 without details, and the
    error log says what to run."""
    from audit import retention

    monkeypatch.setattr(retention, "current_month", lambda: datetime.date(2040, 1, 1))
    response = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get("/healthz")
    assert response.status_code == 503
    assert response.content == b"degraded"
    assert "audit_retention" in caplog.text


@pytest.mark.django_db
def test_health_check_remembers_a_ready_partition_but_not_a_missing_one(settings, monkeypatch):
    """Found once, next month's partition is not asked for again for a minute; a missing one
    is asked for at every check (so the 503 ends as soon as retention has made it)."""
    from audit import retention

    asked = []
    real = retention.next_month_ready

    def counted() -> bool:
        asked.append(1)
        return real()

    monkeypatch.setattr(retention, "next_month_ready", counted)
    client = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN)
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
    assert len(asked) == 1
    views.forget_partition_check()
    monkeypatch.setattr(retention, "current_month", lambda: datetime.date(2040, 1, 1))
    assert [client.get("/healthz").status_code for _ in range(2)] == [503, 503]
    assert len(asked) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["evil.example", "a..b", "alpha.localhost.evil.example"])
def test_production_https_redirect_never_points_at_an_unknown_host(settings, tenant, host):
    settings.SECURE_SSL_REDIRECT = True
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    # ...while a known host is redirected to HTTPS on itself.
    response = Client(HTTP_HOST=tenant.host).get("/some/page")
    assert response.status_code == 301
    assert response["Location"] == f"https://{tenant.host}/some/page"


@pytest.mark.django_db
def test_the_host_404_carries_the_security_headers():
    response = Client(HTTP_HOST="unknown.example").get("/")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_a_supplied_request_id_is_used_only_when_it_is_all_safe_characters(tenant):
    client = Client(HTTP_HOST=tenant.host, raise_request_exception=False)
    kept = client.get("/", HTTP_X_REQUEST_ID="router-id-12345")
    assert kept["X-Request-ID"] == "router-id-12345"
    # "$" would let a trailing newline through: into log lines, audit events and a header.
    response = client.get("/", HTTP_X_REQUEST_ID="router-id-12345\n")
    assert response.status_code == 200
    assert "\n" not in response["X-Request-ID"]
    assert response["X-Request-ID"] != "router-id-12345\n"
