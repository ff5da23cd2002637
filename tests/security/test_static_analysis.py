"""CI security gate: bandit and the portal's semgrep rules find nothing in the product code,
each finds what it should in code planted for it, and every suppression says why.

Semgrep (from PyPI) runs here offline with the local rule file only; the rules are in
tests/security/semgrep/portal.yml, the runner in tests/security/gate.py.
"""

from __future__ import annotations

import re
import textwrap

from django.apps import apps

from accounts.models import TenantOwned
from tests.security.gate import (
    ROOT,
    RULES,
    product_files,
    product_targets,
    rule_ids,
    run_bandit,
    run_semgrep,
    unexplained_suppressions,
)

PLANTED_PYTHON = """\
import pickle
import subprocess


def handler(command, blob):
    subprocess.run(command, shell=True)
    return pickle.loads(blob)
"""


def test_bandit_finds_nothing_in_the_product_code_and_catches_a_planted_finding(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(PLANTED_PYTHON)
    findings, scanned = run_bandit(planted)
    in_product = [str(f) for f in findings if not f.path.startswith(str(tmp_path))]
    assert in_product == [], "fix each finding, or justify it: # nosec Bxxx  # <reason>"
    assert {f.rule for f in findings if f.path == str(planted)} >= {"B602", "B301"}
    # Product code only: the apps and config were read, tests, bench and scripts were not.
    assert {"config/settings.py", "accounts/models.py", "documents/scan/extract/base.py"} <= scanned
    assert not [p for p in scanned if p.startswith(("tests/", "bench/", "scripts/"))]
    assert not [p for p in scanned if "/migrations/" in p]


PLANTED_VIEWS = """\
from django.db import connection
from django.shortcuts import get_object_or_404
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from accounts import models
from accounts.models import Department
from requests_portal.models import RecordsRequest


@csrf_exempt
def page(request, pk):
    found = get_object_or_404(RecordsRequest, pk=pk)
    members = models.Membership.objects.filter(user=request.user)
    rows = Department._base_manager.all()
    placeholder = Department.objects.none()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        # nosemgrep: portal-raw-sql -- a planted query that says why it is raw
        cursor.execute("SELECT 2")
    return mark_safe(request.GET["q"]), found, members, rows, placeholder


def listing(queryset):
    return queryset.extra(where=["1=1"]), queryset.raw("SELECT 1")
"""

PLANTED_TEMPLATE = """\
<p>{{ text|safe }}</p>
{# nosemgrep: portal-template-safe -- planted: a value the view escaped itself #}
<p>{{ escaped|safe }}</p>
{% autoescape off %}{{ body }}{% endautoescape %}
"""

EXPECTED_PLANTED = {
    ("views.py", 11, "portal-csrf-exempt"),
    ("views.py", 13, "portal-tenant-query-outside-access"),
    ("views.py", 14, "portal-tenant-query-outside-access"),
    ("views.py", 15, "portal-tenant-query-outside-access"),
    ("views.py", 18, "portal-raw-sql"),
    ("views.py", 21, "portal-mark-safe"),
    ("views.py", 25, "portal-raw-sql"),
    ("page.html", 1, "portal-template-safe"),
    ("page.html", 4, "portal-template-safe"),
}


def test_semgrep_finds_nothing_in_the_product_code_and_catches_each_planted_finding(tmp_path):
    planted = tmp_path / "planted"
    (planted / "templates").mkdir(parents=True)
    (planted / "views.py").write_text(PLANTED_VIEWS)
    (planted / "templates" / "page.html").write_text(PLANTED_TEMPLATE)
    # The same view code in a service module: the tenant rule is for views, forms, tasks,
    # URL modules and template tags only.
    (planted / "services.py").write_text(PLANTED_VIEWS)

    findings, scanned = run_semgrep([*product_targets(), planted])

    in_product = [str(f) for f in findings if not f.path.startswith(str(tmp_path))]
    assert in_product == [], (
        "fix each finding, or say why on its line or the one before: "
        "# nosemgrep: <rule> -- <reason>"
    )
    found = {
        (f.path.rsplit("/", 1)[-1], f.line, f.rule)
        for f in findings
        if f.path.startswith(str(planted)) and not f.path.endswith("services.py")
    }
    assert found == EXPECTED_PLANTED
    in_service = {f.rule for f in findings if f.path.endswith("services.py")}
    assert "portal-tenant-query-outside-access" not in in_service
    assert "portal-raw-sql" in in_service
    assert {"accounts/views.py", "templates/accounts/mfa_setup.html"} <= scanned
    assert not [p for p in scanned if "/migrations/" in p or p.startswith("tests/")]


def test_every_suppression_names_its_rule_and_says_why():
    known = rule_ids()
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in product_files()
        for line in unexplained_suppressions(path.read_text(), known)
    ]
    assert offenders == [], (
        "write '# nosec Bxxx  # <reason>' or '# nosemgrep: <rule> -- <reason>' "
        "(a reason of three words or more)"
    )


def test_the_suppression_check_refuses_a_bare_or_unexplained_one():
    known = {"portal-raw-sql", "portal-template-safe"}
    text = textwrap.dedent(
        """\
        a = run(x)  # nosec
        b = run(x)  # nosec B603
        c = run(x)  # nosec B603  # ok
        d = run(x)  # nosec B603  # no shell, fixed arguments
        # nosemgrep
        # nosemgrep: portal-raw-sql
        # nosemgrep: portal-raw-sql -- why
        # nosemgrep: portal-other -- a rule that does not exist
        # nosemgrep: portal-raw-sql -- an advisory lock the ORM lacks
        {# nosemgrep: portal-template-safe -- our own drawn SVG #}
        """
    )
    assert unexplained_suppressions(text, known) == [1, 2, 3, 5, 6, 7, 8]


def test_the_tenant_rule_names_every_tenant_model():
    """A new TenantOwned model must be added to the rule's list (the regex below)."""
    listed = re.search(r"regex: \^\(([\w|]+)\)\$", RULES.read_text())
    assert listed is not None
    tenant_models = sorted(
        model.__name__
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.abstract
    )
    assert sorted(listed.group(1).split("|")) == tenant_models, (
        "set the rule's regex to: ^(" + "|".join(tenant_models) + ")$"
    )
