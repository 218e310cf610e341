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

from tui.runbook.loader import load, load_text

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


def _properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"runbook.{k}", v) for k, v in schema["properties"].items()]
    for name, definition in schema["$defs"].items():
        found.extend((f"{name}.{k}", v) for k, v in definition.get("properties", {}).items())
    return found


def test_every_property_has_a_description(schema: dict[str, Any]) -> None:
    properties = _properties(schema)
    assert len(properties) > 200
    bare = [name for name, prop in properties if not prop.get("description", "").strip()]
    assert not bare, f"{len(bare)} of {len(properties)} properties have no description: {bare[:20]}"


SMALL = """
schema = 1
id = "orders-api"
title = "orders-api rollback"
service = "orders-api"
[hosts.app1]
address = "app1"
[[checks]]
id = "health"
kind = "http"
url = "http://orders.internal:8080/health"
[plans.A]
title = "Code rollback"
[[plans.A.steps]]
id = "checkout"
kind = "ssh"
host = "app1"
run = "cd /srv/orders && git checkout -q v3.1.4"
timeout = "2m"
"""


def _small() -> dict[str, Any]:
    return tomllib.loads(SMALL)


def test_the_small_runbook_is_valid(schema: dict[str, Any]) -> None:
    assert load_text(SMALL).ok
    assert not list(_validator(schema).iter_errors(_small()))


@pytest.mark.parametrize(
    ("change", "where", "says"),
    [
        (("timeout", "soon"), ["timeout"], "'soon'"),  # a bad value of a field every kind has
        (("hsot", "app1"), [], "'hsot' was unexpected"),  # an unknown key
        (("kind", "shh"), ["kind"], "'shh' is not one of"),  # an unknown kind
        (("expect_exit", "zero"), ["expect_exit"], "'zero' is not of type 'integer'"),  # a kind's own field
    ],
)
def test_one_wrong_field_is_one_error(
    schema: dict[str, Any], change: tuple[str, str], where: list[str], says: str
) -> None:
    data = _small()
    step = data["plans"]["A"]["steps"][0]
    key, value = change
    step[key] = value
    errors = list(_validator(schema).iter_errors(data))
    assert len(errors) == 1, [e.message for e in errors]
    (error,) = errors
    assert list(error.absolute_path) == ["plans", "A", "steps", 0, *where]
    assert says in error.message
    # What an editor lists: the error and its reasons (a duration's forms), all about that one field,
    # not every other kind's complaint about the step.
    places = {tuple(e.absolute_path) for e in _with_causes(errors)}
    assert places == {("plans", "A", "steps", 0, *where)}, [e.message for e in _with_causes(errors)]


def test_a_step_without_kind_is_one_error(schema: dict[str, Any]) -> None:
    data = _small()
    del data["checks"][0]["kind"]
    errors = list(_validator(schema).iter_errors(data))
    assert [e.message for e in errors] == ["'kind' is a required property"]
    assert list(errors[0].absolute_path) == ["checks", 0]
