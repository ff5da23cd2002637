"""Test modules are leaves: none imports from another test module.

Importing from a test module ties two test files together (moving or renaming one breaks the
other) and hides shared builders where nobody looks for them. Shared helpers live in helper
modules instead (tests/factories.py, tests/<area>/helpers.py, tests/accounts/route_matrix.py...).
Every Python file under tests/ is checked, helper modules included, at every depth of the
file (imports inside functions too).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return dotted.rsplit(".", 1)[-1].startswith("test_")


def imports_of_test_modules(source: str) -> list[str]:
    """The imports of ``source`` that reach into a test module (``tests.x.test_y``, or
    ``test_y`` taken from a package of ours), as ``line: module`` strings in line order."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if _is_test_module(a.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if _is_test_module(module):
                found.append((node.lineno, module))
            elif node.level or module == "tests" or module.startswith("tests."):
                # ``from tests.accounts import test_mfa`` imports the test module itself.
                separator = "" if module.endswith(".") else "."
                found += [
                    (node.lineno, f"{module}{separator}{a.name}")
                    for a in node.names
                    if a.name.startswith("test_")
                ]
    return [f"{line}: {module}" for line, module in sorted(found)]


def test_no_module_of_the_tests_imports_a_test_module():
    offenders = {
        str(path.relative_to(TESTS.parent)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imports_of_test_modules(path.read_text()))
    }
    assert offenders == {}, "move the shared helpers to a helper module"


def test_the_rule_catches_imports_from_test_modules_at_any_depth():
    source = """
from tests.accounts.test_mfa import code_for
import tests.documents.test_redaction
from tests.accounts import test_views_permissions, helpers
from .test_sessions import sign_in
from .. import test_smoke
from tests.accounts.identity_helpers import sign_in
from django.test import Client


def test_something():
    from tests.documents.test_redaction import squash
"""
    assert imports_of_test_modules(source) == [
        "2: tests.accounts.test_mfa",
        "3: tests.documents.test_redaction",
        "4: tests.accounts.test_views_permissions",
        "5: .test_sessions",
        "6: ..test_smoke",
        "12: tests.documents.test_redaction",
    ]
