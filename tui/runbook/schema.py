"""The runbook format as a JSON Schema, for editors (taplo, Even Better TOML) and for tests."""

from __future__ import annotations

from typing import Any

from tui.runbook.model import Runbook

SCHEMA_ID = "https://rbconsole.dev/schema/runbook-1.json"
STEP_DEF = "Step"


def runbook_schema() -> dict[str, Any]:
    schema = Runbook.model_json_schema(by_alias=True, mode="validation")
    schema = _discriminate(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "rbconsole runbook (schema 1)",
    }


def _discriminate(schema: dict[str, Any]) -> dict[str, Any]:
    """Steps chosen by their ``kind`` with ``if``/``then``, not a ``oneOf`` over every kind.

    pydantic writes a discriminated union as ``oneOf`` plus OpenAPI's ``discriminator`` keyword,
    which JSON Schema validators (taplo's among them) ignore: one wrong field in an ssh step then
    fails all nine kinds, and an editor shows every kind's complaint. Here a step names its kind
    (one error when it is missing or unknown) and only that kind's schema applies to the rest.
    """
    mapping: dict[str, str] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            found = node.get("discriminator")
            if isinstance(found, dict) and "oneOf" in node and found.get("propertyName") == "kind":
                mapping.update(found["mapping"])
                rest = {k: v for k, v in node.items() if k not in ("discriminator", "oneOf")}
                return {**rest, "$ref": f"#/$defs/{STEP_DEF}"}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    schema = walk(schema)
    if mapping:
        kinds = sorted(mapping)
        schema.setdefault("$defs", {})[STEP_DEF] = {
            "type": "object",
            "description": "a check, plan step or verification; its 'kind' says which fields it takes",
            "required": ["kind"],
            "properties": {"kind": {"enum": kinds, "description": "what the step does: " + ", ".join(kinds)}},
            "allOf": [
                {
                    "if": {"required": ["kind"], "properties": {"kind": {"const": kind}}},
                    "then": {"$ref": mapping[kind]},
                }
                for kind in kinds
            ],
        }
    return schema
