"""Rules a reviewer would otherwise have to remember, checked on the source itself.

- Views, tasks and forms never query a tenant model directly: tenant reads go through the
  access helpers (``access.py``), writes through services (Zulip's semgrep habit, as a test).
- The audit app imports no other app of ours (it sits at the bottom of the import graph).
"""

import ast
from pathlib import Path

from django.apps import apps

from accounts.models import TenantOwned

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "requests_portal", "documents", "billing", "audit", "config"]
GUARDED_MODULES = {"views.py", "tasks.py", "forms.py", "urls.py"}


def tenant_model_names() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.abstract
    }


def unscoped_queries(source: str, names: set[str]) -> list[int]:
    """Line numbers of ``<TenantModel>.objects`` in a module."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in ("objects", "_default_manager")
        and isinstance(node.value, ast.Name)
        and node.value.id in names
    ]


def test_views_tasks_and_forms_reach_tenant_rows_only_through_access_helpers():
    names = tenant_model_names()
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if path.name in GUARDED_MODULES:
                lines = unscoped_queries(path.read_text(), names)
                offenders += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    assert offenders == []


def test_the_rule_catches_a_direct_query():
    source = "def view(request):\n    return Membership.objects.filter(pk=1)\n"
    assert unscoped_queries(source, {"Membership"}) == [2]


def test_audit_imports_no_other_app_of_ours():
    ours = set(APPS) - {"audit"}
    bad = []
    for path in (ROOT / "audit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            bad += [f"{path.name}: {m}" for m in modules if m.split(".")[0] in ours]
    assert bad == []
