"""The shape of the code, checked from its source (docs/architecture.md, "Layers").

- No import cycles between the portal's modules, imports inside functions included.
- Imports point down: to the app's own modules or to lower layers (vault, audit, accounts,
  requests_portal and ops, then documents and billing, then api, then config); and inside an
  app from interface (views, urls, tasks, ...) to services to access to models, never back up. A
  service asks for background work through a ``jobs`` module, never by importing ``tasks``.
- Each module does one job: none grows past MAX_LINES (the end of every run lists the largest).
"""

from tests.structure import (
    INTERFACE,
    SERVICE,
    Module,
    cycles,
    import_graph,
    kind,
    largest,
    product_modules,
    upward_imports,
)

MAX_LINES = 600


def test_no_import_cycles_even_through_imports_inside_functions():
    assert cycles(import_graph(product_modules())) == []


def test_imports_point_down_the_layers():
    modules = product_modules()
    assert upward_imports(import_graph(modules), modules) == []


def test_no_module_does_two_jobs_by_size():
    too_big = [
        f"{m.path.name} ({m.name}): {m.lines} lines"
        for m in largest(product_modules().values(), count=50)
        if m.lines > MAX_LINES
    ]
    assert too_big == []


def test_services_never_import_tasks():
    modules = product_modules()
    graph = import_graph(modules)
    offenders = [
        f"{source} -> {target}"
        for source, edges in graph.items()
        if kind(source) == SERVICE
        for target in edges
        if target.split(".")[-1] == "tasks"
    ]
    assert offenders == []


# The checker itself, on small made-up trees: each rule must catch what it names.


def _tree(tmp_path, files: dict[str, str]) -> dict[str, Module]:
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return product_modules(tmp_path)


def test_a_cycle_through_a_local_import_is_found(tmp_path):
    modules = _tree(
        tmp_path,
        {
            "documents/__init__.py": "",
            "documents/services.py": "def f():\n    from documents import tasks\n",
            "documents/tasks.py": "from documents import services\n",
        },
    )
    assert cycles(import_graph(modules)) == [["documents.services", "documents.tasks"]]


def test_an_import_into_a_higher_app_or_a_higher_kind_is_refused(tmp_path, monkeypatch):
    import tests.structure as structure

    monkeypatch.setattr(structure, "ROOT", tmp_path)
    modules = _tree(
        tmp_path,
        {
            "vault/__init__.py": "",
            "vault/keyring.py": "import accounts.models\n",
            "accounts/__init__.py": "",
            "accounts/models.py": "",
            "accounts/access.py": "from accounts.services import invitations\n",
            "accounts/services/__init__.py": "",
            "accounts/services/invitations.py": "from accounts.views import page\n",
            "accounts/views.py": "from accounts.services import invitations\n",
        },
    )
    bad = structure.upward_imports(import_graph(modules), modules)
    assert [line.split(": ", 1)[1] for line in bad] == [
        "accounts.access -> accounts.services.invitations (a access module imports a service)",
        "accounts.services.invitations -> accounts.views (a service imports a view/task/url)",
        "vault.keyring -> accounts.models (app accounts is not below vault)",
    ]


def test_ops_sits_beside_requests_portal_above_accounts():
    from tests.structure import layer

    assert layer("accounts") < layer("ops") == layer("requests_portal") < layer("documents")


def test_kinds_are_read_from_module_names():
    assert kind("documents.upload.views") == INTERFACE
    assert kind("requests_portal.admin_views") == INTERFACE
    assert kind("accounts.services.invitations") == SERVICE
    assert kind("documents.redaction.services") == SERVICE
    assert kind("documents.scan.malware") is None
