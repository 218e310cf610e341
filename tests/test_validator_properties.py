"""Whatever an author's editor does to a valid runbook, the loader answers with problems that point
into the file, or with a runbook: never an exception.

Mutations work on the data (delete, retype, rename a key; duplicate an array item) and on the text
(truncate, insert characters or raw bytes, swap or drop lines). Examples are bounded so this runs
in seconds.
"""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.runbook.loader import Loaded, load, load_text

REPO = Path(__file__).resolve().parent.parent
BASES = sorted({*REPO.glob("runbooks/*.toml"), *(REPO / "tests" / "data").glob("*.toml")})
TEXTS = {path.name: path.read_text(encoding="utf-8") for path in BASES}
VALID = {name: text for name, text in TEXTS.items() if load_text(text, name).ok}

BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NASTY = st.sampled_from(
    ['"', "'", '"""', "[", "]", "[[", "{", "}", "=", ".", ",", "#", "\\", "\n", "\t", "\x00", "\u3000", "{{ x }}", "é"]
)


def test_there_are_valid_bases() -> None:
    assert "spec_example.toml" in VALID


def assert_sane(loaded: Loaded, text: str) -> None:
    if loaded.ok:
        assert loaded.runbook is not None and not loaded.problems
        return
    assert loaded.runbook is None and loaded.problems
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    for problem in loaded.problems:
        assert problem.line >= 1 and problem.line <= len(lines), problem
        assert problem.col >= 1 and problem.col <= len(lines[problem.line - 1]) + 1, problem
        assert problem.message and "\n" not in problem.message, problem


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


OTHER_TYPES: list[Any] = [0, -1, 3.5, True, "", "x", "{{ nope }}", [], ["a"], {}, {"k": 1}, [{"id": "z"}]]


@BOUNDED
@given(st.data())
def test_data_mutations_never_raise(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(VALID)))
    doc = tomllib.loads(VALID[name])
    path = data.draw(st.sampled_from(_paths(doc)))
    parent = _parent(doc, path)
    key = path[-1]
    operation = data.draw(st.sampled_from(["delete", "retype", "rename", "duplicate"]))
    if operation == "delete":
        del parent[key]
    elif operation == "retype":
        parent[key] = data.draw(st.sampled_from(OTHER_TYPES))
    elif operation == "rename" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["colour", "Run", "id2", "kind_", "steps "]))] = parent.pop(key)
    elif operation == "duplicate" and isinstance(parent, list):
        parent.insert(key, parent[key])
    text = tomli_w.dumps(doc)
    assert_sane(load_text(text, name), text)


@BOUNDED
@given(st.data())
def test_text_edits_never_raise(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(VALID)))
    text = VALID[name]
    operation = data.draw(st.sampled_from(["truncate", "insert", "swap", "drop", "repeat"]))
    lines = text.split("\n")
    if operation == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif operation == "insert":
        at = data.draw(st.integers(0, len(text)))
        piece = data.draw(st.one_of(NASTY, st.text(min_size=1, max_size=8)))
        text = text[:at] + piece + text[at:]
    else:
        i = data.draw(st.integers(0, len(lines) - 1))
        j = data.draw(st.integers(0, len(lines) - 1))
        if operation == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "drop":
            del lines[i]
        else:
            lines.insert(j, lines[i])
        text = "\n".join(lines)
    assert_sane(load_text(text, name), text)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_raw_bytes_in_a_file_never_raise(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(VALID)))
    raw = VALID[name].encode()
    at = data.draw(st.integers(0, len(raw)))
    raw = raw[:at] + data.draw(st.binary(min_size=1, max_size=6)) + raw[at:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        loaded = load(path)
    assert_sane(loaded, raw.decode("utf-8", "replace"))


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert_sane(load_text(text), text)
