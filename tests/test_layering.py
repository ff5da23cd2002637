"""Rules a reviewer would otherwise have to remember, checked on the source itself.

- Views, tasks and forms never query a tenant model directly: tenant reads go through the
  access helpers (``access.py``), writes through services (Zulip's semgrep habit, as a test).
- Imports point one way: audit knows no app of ours; accounts knows audit; the rest build on both.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps

from accounts.models import TenantOwned

ROOT = Path(__file__).resolve().parents[1]
APPS = [
    "vault",
    "audit",
    "accounts",
    "requests_portal",
    "documents",
    "billing",
    "residents",
    "webhooks",
    "config",
]

# Methods that make a related manager run a query.
QUERYING = {
    "all",
    "filter",
    "exclude",
    "get",
    "first",
    "last",
    "count",
    "exists",
    "order_by",
    "select_related",
    "prefetch_related",
    "values",
    "values_list",
    "create",
    "update",
    "delete",
    "aggregate",
    "annotate",
    "iterator",
    "in_bulk",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "add",
    "remove",
    "set",
    "clear",
}


def tenant_model_names() -> set[str]:
    return {
        model.__name__
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.abstract
    }


def tenant_relation_names() -> set[str]:
    """Names through which one object reaches another's tenant rows: reverse relations
    (``records_request.timeline``, ``requestdepartment_set``) and many-to-many fields."""
    names = set()
    for model in apps.get_models():
        for relation in model._meta.related_objects:
            if issubclass(relation.related_model, TenantOwned):
                names.add(relation.get_accessor_name())
        for field in model._meta.many_to_many:
            if issubclass(field.related_model, TenantOwned):
                names.add(field.name)
    return names


def guarded(path: Path) -> bool:
    """Views, tasks, forms, urls, template tags and the like (by file or folder name)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return any(
        part in {"views", "tasks", "forms", "urls", "templatetags"}
        or part.endswith(("_views", "_forms", "_urls"))
        for part in parts
    )


def guarded_modules() -> list[Path]:
    return [path for app in APPS for path in sorted((ROOT / app).rglob("*.py")) if guarded(path)]


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


def related_queries(source: str, relations: set[str]) -> list[int]:
    """Line numbers of ``<object>.<relation>.<query>`` (``records_request.messages.filter``)."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in QUERYING
        and isinstance(node.value, ast.Attribute)
        and node.value.attr in relations
    ]


TEMPLATE_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def template_related_queries(text: str, relations: set[str]) -> list[int]:
    """Lines of a template that walk a tenant relation (``{{ r.departments.all }}``)."""
    relation, query = "|".join(sorted(relations)), "|".join(sorted(QUERYING))
    pattern = re.compile(rf"\.({relation})\.({query})\b")
    return [
        text[: tag.start()].count("\n") + 1
        for tag in TEMPLATE_TAG.finditer(text)
        if pattern.search(tag.group())
    ]


def test_views_tasks_and_forms_reach_tenant_rows_only_through_access_helpers():
    names = tenant_model_names()
    offenders = []
    for path in guarded_modules():
        lines = unscoped_queries(path.read_text(), names)
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    assert offenders == []


def test_views_and_templates_never_walk_a_tenant_relation():
    relations = tenant_relation_names()
    offenders = []
    for path in guarded_modules():
        lines = related_queries(path.read_text(), relations)
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        lines = template_related_queries(path.read_text(), relations)
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in lines]
    assert offenders == []


def test_the_rule_catches_a_direct_query_but_not_an_empty_queryset():
    source = "def view(request):\n    return Membership.objects.filter(pk=1)\n"
    assert unscoped_queries(source, {"Membership"}) == [2]
    assert unscoped_queries("field = Membership.objects.none()\n", {"Membership"}) == []


def test_the_relation_rule_catches_a_walk_but_not_a_helper_of_the_same_name():
    relations = {"timeline", "versions", "departments"}
    view = "def v(r):\n    a = access.versions(r)\n    return r.timeline.filter(x=1)\n"
    assert related_queries(view, relations) == [3]
    template = "<p>{{ r.title }}</p>\n{% for d in r.departments.all %}{{ d }}{% endfor %}\n"
    assert template_related_queries(template, relations) == [2]
    assert template_related_queries("{{ forms.departments.errors }}", relations) == []


def test_every_view_module_is_guarded():
    """A view module in a sub-package (``documents/upload/views.py``) or a views package
    (``requests_portal/views/queue.py``) is covered by the rules above."""
    assert guarded(ROOT / "documents" / "upload" / "views.py")
    assert guarded(ROOT / "requests_portal" / "views" / "queue.py")
    assert guarded(ROOT / "accounts" / "admin_views.py")
    assert not guarded(ROOT / "documents" / "access.py")


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


ROLE_COMPARISON = re.compile(r"\.role\s*(==|!=|\bin\b|\bnot in\b)|\bmembership\.role\b")


def role_checks(text: str) -> list[int]:
    """Lines of a template that decide by comparing a role instead of asking ``can``."""
    return [
        text[: tag.start()].count("\n") + 1
        for tag in TEMPLATE_TAG.finditer(text)
        if tag.group().startswith("{%") and ROLE_COMPARISON.search(tag.group())
    ]


def test_templates_ask_the_policy_not_the_role():
    """A link or button shows when ``can.<permission>`` (accounts.context_processors) says
    the page would open, never by a role comparison that drifts from accounts.policy."""
    offenders = []
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        if ".venv" in path.parts or "node_modules" in path.parts:
            continue
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in role_checks(path.read_text())]
    assert offenders == []


def test_the_role_rule_catches_a_comparison_but_not_a_printed_role():
    template = (
        '{% if membership.role == "admin" %}x{% endif %}\n<p>{{ member.get_role_display }}</p>'
    )
    assert role_checks(template) == [1]
    assert role_checks("{% if can.templates_manage %}x{% endif %}") == []
