"""Every library the portal's own code imports is declared in pyproject.toml, not left to
arrive as some other package's dependency (which a later release of that package may drop)."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.structure import APPS, ROOT, product_modules

# Imported by the embedded default only (config/embedded_postgres.py): a development tool,
# declared in the dev extra; production always has DATABASE_URL.
DEV_ONLY = {"pgserver"}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_normalised(re.split(r"[<>=!~\[ ;]", spec)[0]) for spec in project["dependencies"]}


def imported_top_level_names(sources: list[str]) -> set[str]:
    names = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(APPS) - {"__future__"}


def undeclared(names: set[str], declared: set[str]) -> list[str]:
    distributions = packages_distributions()
    return sorted(
        name
        for name in names - DEV_ONLY
        if not any(_normalised(d) in declared for d in distributions.get(name, [name]))
    )


def test_every_imported_library_is_declared():
    sources = [module.path.read_text() for module in product_modules().values()]
    assert undeclared(imported_top_level_names(sources), declared_distributions()) == []


def test_the_check_catches_a_library_that_only_arrives_through_another():
    names = imported_top_level_names(["import botocore.exceptions\nfrom django.db import models"])
    assert names == {"botocore", "django"}
    assert undeclared(names, {"django", "boto3"}) == ["botocore"]
