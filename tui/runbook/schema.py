"""The runbook format as a JSON Schema, for editors (taplo, Even Better TOML) and for tests."""

from __future__ import annotations

from typing import Any

from tui.runbook.model import Runbook

SCHEMA_ID = "https://rbconsole.dev/schema/runbook-1.json"


def runbook_schema() -> dict[str, Any]:
    schema = Runbook.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "rbconsole runbook (schema 1)",
    }
