"""`rbconsole schema` is a JSON Schema editors can use, and it agrees with the loader on real runbooks."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tui.runbook.loader import load

REPO = Path(__file__).resolve().parent.parent
RUNBOOKS = sorted({*REPO.glob("runbooks/*.toml"), REPO / "tests" / "data" / "spec_example.toml"})
BROKEN = REPO / "tests" / "broken"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tui", "schema"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return json.loads(out)


def test_schema_is_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert {"schema", "id", "title", "service", "plans"} <= set(schema["required"])


@pytest.mark.parametrize("path", RUNBOOKS, ids=[p.name for p in RUNBOOKS])
def test_every_bundled_runbook_matches_the_schema(schema: dict[str, Any], path: Path) -> None:
    assert load(path).ok, "\n".join(str(p) for p in load(path).problems)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(schema).iter_errors(data)]
    assert not errors, "\n".join(errors[:10])


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("unknown_top_level_key", []),
        ("unknown_step_kind", ["plans", "A", "steps", 0]),
        ("http_check_without_url", ["checks", 0]),
        ("wrong_type_list_for_table", ["vars"]),
        ("bad_capture_spec", ["plans", "A", "steps", 0, "capture", "backup"]),
        ("bad_duration", ["plans", "A", "steps", 0, "timeout"]),
    ],
)
def test_the_schema_rejects_what_the_loader_rejects(schema: dict[str, Any], name: str, where: list[Any]) -> None:
    data = tomllib.loads((BROKEN / f"{name}.toml").read_text(encoding="utf-8"))
    errors = list(_validator(schema).iter_errors(data))
    assert errors, f"{name} passed the schema"
    places = [list(e.absolute_path) for e in _with_causes(errors)]
    assert any(place[: len(where)] == where for place in places), places


def _with_causes(errors: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    """Errors and, for a step (a oneOf over kinds), the reasons each kind gave."""
    found = []
    for error in errors:
        found.append(error)
        found.extend(_with_causes(list(error.context or [])))
    return found


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def test_schema_describes_the_branching_words(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    for kind in ("SshAction", "LocalAction", "HttpAction", "ManualAction"):
        props = defs[kind]["properties"]
        assert "steps.restore_script.failed" in props["when"]["description"]
        assert props["optional"]["type"] == "boolean" and "--with" in props["optional"]["description"]
        assert props["ask"]["type"] == "string"
    fields = defs["RecordSpec"]["properties"]["fields"]
    assert fields["additionalProperties"] == {"type": "string"} and "回滚版本" in fields["description"]
    contact = defs["Contact"]["properties"]
    assert contact["escalate"]["items"]["enum"] == ["failed", "overdue"]
    assert {"minimum": 1, "type": "integer"} in contact["order"]["anyOf"]
    good = tomllib.loads((REPO / "runbooks" / "meiyueart-deploy.toml").read_text(encoding="utf-8"))
    jsonschema.validate(good, schema)
    good["plans"]["auto"]["steps"][0]["optional"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good, schema)
