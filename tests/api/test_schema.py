"""The committed OpenAPI schema (api/schema.yaml) is the one the code generates: a change to
an endpoint without refreshing it fails here, with the command that refreshes it."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command

SCHEMA = Path(__file__).resolve().parents[2] / "api" / "schema.yaml"
REFRESH = (
    "make api-schema  (manage.py spectacular --validate --fail-on-warn --file api/schema.yaml)"
)


def test_the_committed_schema_is_what_the_code_generates(tmp_path):
    fresh = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(fresh))
    assert fresh.read_text() == SCHEMA.read_text(), (
        f"api/schema.yaml is out of date with the API's code; refresh it with: {REFRESH}"
    )


def test_every_operation_documents_the_error_shape():
    schema = yaml.safe_load(SCHEMA.read_text())
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code in ("400", "401", "403", "404", "429"):
                assert code in operation["responses"], (path, method, code)
