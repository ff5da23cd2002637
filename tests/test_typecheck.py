"""The type-check baseline's rules (scripts/typecheck), on fabricated mypy output.

mypy itself never runs here: `make test` runs scripts/typecheck before pytest.
"""

import sys
import tomllib
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script():
    loader = SourceFileLoader("typecheck_script", str(ROOT / "scripts" / "typecheck"))
    spec = spec_from_loader(loader.name, loader)
    module = module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up by name
    loader.exec_module(module)
    return module


typecheck = _load_script()

OUTPUT = """\
accounts/forms.py:12: error: Incompatible types in assignment  [assignment]
accounts/forms.py:12: note: "list" is invariant
accounts/forms.py:40:7: error: Item "None" of "str | None" has no attribute "x"  [union-attr]
vault/crypto.py:3: error: Function is missing a type annotation  [no-untyped-def]
documents/views.py:9: error: Name "y" is not defined  [name-defined]
"""


def strict(path):
    return typecheck.strict_predicate(["vault.*", "*.services.*", "*.access.*"])(path)


def test_parse_reads_errors_and_keeps_their_notes():
    errors, other = typecheck.parse(OUTPUT)
    assert [(e.path, e.line) for e in errors] == [
        ("accounts/forms.py", 12),
        ("accounts/forms.py", 40),
        ("vault/crypto.py", 3),
        ("documents/views.py", 9),
    ]
    assert errors[0].notes == ('accounts/forms.py:12: note: "list" is invariant',)
    assert errors[0].render().splitlines()[1].endswith('"list" is invariant')
    assert other == []


def test_parse_hands_back_lines_that_are_not_file_errors():
    output = "pyproject.toml: [mypy]: Unrecognized option: bogus = 1\nx.py:1: error: E  [misc]\n"
    errors, other = typecheck.parse(output)
    assert [e.path for e in errors] == ["x.py"]
    assert other == ["pyproject.toml: [mypy]: Unrecognized option: bogus = 1"]


def test_module_names_and_mypy_patterns():
    assert typecheck.module_name("vault/crypto.py") == "vault.crypto"
    assert typecheck.module_name("audit/__init__.py") == "audit"
    assert typecheck.module_name("accounts/services/invites.py") == "accounts.services.invites"
    for path in (
        "vault/__init__.py",
        "vault/storage.py",
        "accounts/services.py",
        "accounts/services/__init__.py",
        "accounts/services/invites.py",
        "documents/upload/services.py",
        "documents/access.py",
        "requests_portal/access/queue.py",
    ):
        assert strict(path), path
    for path in (
        "vaults/x.py",
        "accounts/services_helpers.py",
        "accounts/upload_services.py",
        "accounts/views.py",
        "services.py",
    ):
        assert not strict(path), path


def test_strict_patterns_come_from_the_override_that_sets_every_strict_flag():
    config = {
        "overrides": [
            {"module": ["celery.*"], "ignore_missing_imports": True},
            {"module": "half.*", "disallow_untyped_defs": True},
            {"module": ["vault.*", "audit.*"], **typecheck.STRICT_FLAGS},
        ]
    }
    assert typecheck.strict_patterns(config) == ["vault.*", "audit.*"]
    # The project's own configuration: vault and audit are strict.
    with (ROOT / "pyproject.toml").open("rb") as handle:
        patterns = typecheck.strict_patterns(tomllib.load(handle)["tool"]["mypy"])
    assert {"vault.*", "audit.*"} <= set(patterns)


def test_baseline_file_round_trip_and_refusals():
    text = typecheck.format_baseline({"b.py": 2, "a.py": 1, "gone.py": 0})
    assert text.startswith("# ")
    assert text.rstrip().splitlines()[-2:] == ["a.py: 1", "b.py: 2"]
    assert "# Total: 3 errors in 2 files." in text
    assert typecheck.parse_baseline(text) == {"a.py": 1, "b.py": 2}
    with pytest.raises(ValueError, match="line 2"):
        typecheck.parse_baseline("a.py: 1\na.py: 2\n")
    with pytest.raises(ValueError, match="line 1"):
        typecheck.parse_baseline("a.py: many\n")


def test_exact_baseline_passes():
    errors, _ = typecheck.parse(OUTPUT.replace("vault/crypto.py:3", "audit/x.py:3"))
    baseline = {"accounts/forms.py": 2, "audit/x.py": 1, "documents/views.py": 1}
    verdict = typecheck.compare(errors, baseline, strict)
    assert verdict.ok
    assert verdict.counts == baseline


def test_any_error_in_a_strict_module_fails():
    errors, _ = typecheck.parse(OUTPUT)
    verdict = typecheck.compare(errors, {"accounts/forms.py": 2, "documents/views.py": 1}, strict)
    assert not verdict.ok
    assert [e.path for e in verdict.strict_errors] == ["vault/crypto.py"]
    assert "vault/crypto.py" not in verdict.counts


def test_more_errors_or_an_unlisted_file_fails():
    errors, _ = typecheck.parse(OUTPUT)
    verdict = typecheck.compare(errors, {"accounts/forms.py": 1}, lambda path: False)
    assert not verdict.ok
    assert verdict.grown == {
        "accounts/forms.py": (1, 2),
        "documents/views.py": (0, 1),
        "vault/crypto.py": (0, 1),
    }


def test_fewer_errors_fails_until_the_baseline_is_lowered():
    errors, _ = typecheck.parse(OUTPUT)
    baseline = {"accounts/forms.py": 3, "documents/views.py": 1, "moved/away.py": 4}
    verdict = typecheck.compare(errors, baseline, strict)
    assert not verdict.ok
    assert verdict.grown == {}
    assert verdict.shrunk == {"accounts/forms.py": (3, 2), "moved/away.py": (4, 0)}


def test_a_strict_module_listed_in_the_baseline_fails():
    verdict = typecheck.compare([], {"documents/access.py": 2}, strict)
    assert not verdict.ok
    assert verdict.misplaced == ["documents/access.py"]
    assert verdict.shrunk == {}


def test_update_lowers_and_drops_but_reports_growth():
    new, growth = typecheck.updated_baseline(
        {"a.py": 3, "b.py": 2, "gone.py": 1}, {"a.py": 1, "b.py": 2}
    )
    assert new == {"a.py": 1, "b.py": 2}
    assert growth == {}

    new, growth = typecheck.updated_baseline({"a.py": 3}, {"a.py": 4, "new.py": 2})
    assert new == {"a.py": 4, "new.py": 2}
    assert growth == {"a.py": (3, 4), "new.py": (0, 2)}


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """main() with a fabricated mypy answer and a baseline in a temporary folder."""
    baseline = tmp_path / "mypy-baseline.txt"
    monkeypatch.setattr(typecheck, "BASELINE", baseline)

    def run(output, *, status=1, args=()):
        monkeypatch.setattr(typecheck, "run_mypy", lambda: (status, output))
        return typecheck.main(list(args))

    run.baseline = baseline
    return run


def test_main_update_refuses_growth_unless_allowed(fake_run, capsys):
    output = "accounts/forms.py:1: error: E  [misc]\naccounts/forms.py:2: error: E  [misc]\n"
    fake_run.baseline.write_text(typecheck.format_baseline({"accounts/forms.py": 1}))

    assert fake_run(output) == 1
    assert "baseline allows 1" in capsys.readouterr().out

    assert fake_run(output, args=["--update"]) == 1
    assert "NOT updated" in capsys.readouterr().out
    assert typecheck.parse_baseline(fake_run.baseline.read_text()) == {"accounts/forms.py": 1}

    assert fake_run(output, args=["--update", "--allow-growth"]) == 0
    assert typecheck.parse_baseline(fake_run.baseline.read_text()) == {"accounts/forms.py": 2}

    # Fixed one: the check fails until --update lowers the count, which needs no permission.
    fixed = output.splitlines()[0] + "\n"
    assert fake_run(fixed) == 1
    assert "--update" in capsys.readouterr().out
    assert fake_run(fixed, args=["--update"]) == 0
    assert typecheck.parse_baseline(fake_run.baseline.read_text()) == {"accounts/forms.py": 1}
    assert fake_run(fixed) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("typecheck: OK")


def test_main_fails_on_a_strict_error_even_after_update(fake_run, capsys):
    output = "vault/crypto.py:1: error: E  [misc]\n"
    assert fake_run(output, args=["--update"]) == 1
    assert typecheck.parse_baseline(fake_run.baseline.read_text()) == {}
    assert "vault/crypto.py:1: error: E" in capsys.readouterr().out


def test_main_fails_when_mypy_does_not_finish(fake_run, capsys):
    assert fake_run("Traceback (most recent call last):\n", status=2) == 2
    assert "did not finish" in capsys.readouterr().out
    assert fake_run("pyproject.toml: bad pattern\n", status=0) == 2


def test_allow_growth_needs_update(fake_run):
    with pytest.raises(SystemExit):
        fake_run("", status=0, args=["--allow-growth"])


def test_mypy_runs_without_a_database():
    env = typecheck.mypy_environment({"PATH": "/bin", "DYNO": "web.1", "PORTAL_ENV": "production"})
    assert env["PATH"] == "/bin"
    assert "DYNO" not in env
    assert env["PORTAL_ENV"] == "development"
    # config.settings starts the embedded PostgreSQL only when DATABASE_URL is unset, and
    # wants a different role for the app.
    assert env["DATABASE_URL"].split("@")[0] != env["DATABASE_APP_URL"].split("@")[0]
