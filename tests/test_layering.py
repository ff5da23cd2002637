"""Rules a reviewer would otherwise have to remember, checked on the source itself.

- Views, tasks and forms never query a tenant model directly: tenant reads go through the
  access helpers (``access.py``), writes through services (Zulip's semgrep habit, as a test).
- Imports point one way: audit knows no app of ours; accounts knows audit; the rest build on both.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

from accounts.models import TenantOwned

ROOT = Path(__file__).resolve().parents[1]
APPS = ["vault", "audit", "accounts", "requests_portal", "documents", "billing", "config"]
GUARDED_MODULES = {"views.py", "tasks.py", "forms.py", "urls.py"}
GUARDED_PACKAGES = {"views"}  # views split into a package, one module per audience


def tenant_model_names() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.abstract
    }


def unscoped_queries(source: str, names: set[str]) -> list[int]:
    """Line numbers of ``<TenantModel>.objects.<anything but none()>`` in a module (an empty
    queryset, a form field's placeholder, runs no query)."""
    tree = ast.parse(source)
    empties = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "none"
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("objects", "_default_manager")
        and isinstance(node.value, ast.Name)
        and node.value.id in names
        and id(node) not in empties
    ]


def test_views_tasks_and_forms_reach_tenant_rows_only_through_access_helpers():
    names = tenant_model_names()
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if (
                path.name in GUARDED_MODULES
                or path.parent.name in GUARDED_PACKAGES
                or path.name.endswith(("_views.py", "_forms.py"))
            ):
                lines = unscoped_queries(path.read_text(), names)
                offenders += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    assert offenders == []


def test_the_rule_catches_a_direct_query_but_not_an_empty_queryset():
    source = "def view(request):\n    return Membership.objects.filter(pk=1)\n"
    assert unscoped_queries(source, {"Membership"}) == [2]
    assert unscoped_queries("field = Membership.objects.none()\n", {"Membership"}) == []


# Imports point one way (docs/architecture.md): each app may import only these of ours.
ALLOWED_IMPORTS = {
    "vault": set(),
    "audit": {"vault"},
    "accounts": {"audit", "vault"},
    "requests_portal": {"accounts", "audit", "vault"},
    "documents": {"requests_portal", "accounts", "audit", "vault"},
    "billing": {"requests_portal", "accounts", "audit", "vault"},
}


@pytest.mark.parametrize("app", sorted(ALLOWED_IMPORTS))
def test_imports_point_one_way(app):
    ours = set(APPS)
    bad = []
    for path in (ROOT / app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            bad += [
                f"{path.relative_to(ROOT)}: {m}"
                for m in modules
                if m.split(".")[0] in ours - {app} - ALLOWED_IMPORTS[app]
            ]
    assert bad == []
