"""Vars never change what a command does: over every bundled document (the seeds and the public
documents), each imported action rendered the way the engine renders it, with the vars' defaults
(and the stated versions), is the action the import writes when it makes no vars at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tui.importer import build as building
from tui.importer.build import build, finish
from tui.runbook.placeholders import PLACEHOLDER, Value, render_shell, render_sql, render_text, render_url

DATA = Path(__file__).resolve().parent / "data"
DOCUMENTS = sorted([*(DATA / "seeds").glob("*.md"), *(DATA / "import").glob("*.md")])
FIELDS = ("run", "cwd", "repo", "url", "query", "ref", "body", "path")


def _actions(runbook: dict[str, Any]) -> list[dict[str, Any]]:
    plans = runbook["plans"].values()
    return [*runbook.get("checks", []), *(a for p in plans for a in (*p["steps"], *p.get("verify", [])))]


def _stand_in(name: str) -> str:
    return f"@@{name}@@"  # what a non-var placeholder renders as: shlex leaves it bare, as written


def _rendered(action: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The action's fields as the engine renders them, vars filled in, other placeholders kept."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        template = action.get(key)
        if not isinstance(template, str):
            continue
        scope = {
            m.group(1): Value(values.get(m.group(1), _stand_in(m.group(1))), trusted=True)
            for m in PLACEHOLDER.finditer(template)
        }
        if key == "run":
            out[key] = render_shell(template, scope)
        elif key == "url":
            out[key] = render_url(template, scope)
        elif key == "query":
            query, params = render_sql(template, scope)
            literals = iter("'" + p.replace("'", "''") + "'" for p in params)
            out[key] = re.sub("%%|%s", lambda m, it=literals: "%" if m.group(0) == "%%" else next(it), query)
        else:
            out[key] = render_text(template, scope)
    headers = action.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {
            k: PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), v) for k, v in headers.items()
        }
    return out


def _plain(action: dict[str, Any], stated: dict[str, str]) -> dict[str, Any]:
    """The same fields of the import that made no vars, its own placeholders as stand-ins (the
    stated versions, which a git ref may name without any var, as their values)."""
    out: dict[str, Any] = {}
    for key in FIELDS:
        if isinstance(action.get(key), str):
            out[key] = PLACEHOLDER.sub(lambda m: stated.get(m.group(1), _stand_in(m.group(1))), action[key])
    if isinstance(action.get("headers"), dict):
        out["headers"] = dict(action["headers"])
    return out


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_command_rendered_with_the_vars_defaults_is_the_documents_command(
    document: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = document.read_text(encoding="utf-8")
    with_vars = finish(build(text, document.name).runbook)
    with monkeypatch.context() as patch:
        patch.setattr(building, "literal_vars", lambda *_args, **_kw: {})
        patch.setattr(building, "_url_vars", lambda *_args, **_kw: {})
        without = finish(build(text, document.name).runbook)
    stated = {k: with_vars[k] for k in ("target_version", "current_version") if with_vars.get(k)}
    values = {**with_vars.get("vars", {}), **stated}
    made, plain = _actions(with_vars), _actions(without)
    assert len(made) == len(plain)
    for action, expected in zip(made, plain, strict=True):
        assert _rendered(action, values) == _plain(expected, stated), f"{document.name}: {action.get('notes')}"
