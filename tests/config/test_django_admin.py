"""Operators have no way into tenant data through Django's admin (issue 11: "the Django
admin shows platform models only").

Today the admin is not installed at all (``django.contrib.admin`` is not in INSTALLED_APPS)
and no URL leads to it: operators reach an agency's data only through what the portal
itself offers, under its audit log. Should the admin ever be installed for platform
tables, the registry test below keeps every tenant table out of it: a model that is
TenantOwned, or that points at an agency or at a tenant row (the audit log's events, for
one), must not be registered.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.test import Client

from accounts.models import Agency, TenantOwned
from audit.models import AuditEvent
from requests_portal.models import RecordsRequest
from tests.accounts.route_matrix import ALL_ROUTES


def is_tenant_data(model) -> bool:
    """TenantOwned, or related to an agency or to a tenant row by a field of its own."""
    if issubclass(model, TenantOwned):
        return True
    for field in model._meta.get_fields():
        if not field.is_relation or field.auto_created:
            continue
        related = field.related_model
        if related is Agency or (isinstance(related, type) and issubclass(related, TenantOwned)):
            return True
    return False


def tenant_models_registered(site: admin.AdminSite) -> list[str]:
    return sorted(model._meta.label for model in site._registry if is_tenant_data(model))


def test_the_django_admin_is_not_installed():
    assert "django.contrib.admin" not in settings.INSTALLED_APPS
    assert not apps.is_installed("django.contrib.admin")


def test_no_url_leads_to_the_django_admin():
    admin_routes = [
        route.label
        for route in ALL_ROUTES
        if getattr(route.callback, "__module__", "").startswith("django.contrib.admin")
        or "admin_view" in getattr(route.callback, "__qualname__", "")
    ]
    assert admin_routes == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/django-admin/"])
def test_the_admin_s_usual_addresses_answer_404(settings, path):
    response = Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get(path)
    assert response.status_code == 404


def test_no_tenant_model_is_registered_in_the_admin():
    if not apps.is_installed("django.contrib.admin"):
        # Not installed: the default site cannot even be built, so nothing is registered.
        # Installing the admin makes this test check its registry.
        with pytest.raises(LookupError):
            admin.site._registry  # noqa: B018
        return
    assert tenant_models_registered(admin.site) == []


def test_every_tenant_table_counts_as_tenant_data():
    """The check above knows the tables it must keep out: every TenantOwned model, and the
    audit log's events (which point at an agency without being TenantOwned)."""
    tenant_owned = [m for m in apps.get_models() if issubclass(m, TenantOwned)]
    assert len(tenant_owned) > 10
    assert all(is_tenant_data(m) for m in tenant_owned)
    assert is_tenant_data(AuditEvent)
    assert not is_tenant_data(Agency)  # the tenant list itself is a platform table


def test_a_tenant_model_registered_in_an_admin_site_is_found():
    site = admin.AdminSite(name="probe")
    site.register(RecordsRequest)
    site.register(AuditEvent)
    assert tenant_models_registered(site) == ["audit.AuditEvent", "requests_portal.RecordsRequest"]
