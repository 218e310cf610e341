"""Read a runbook file into a :class:`Runbook`, or into every problem it has, each with its line."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import tomli as tomllib  # the same parser as the stdlib's tomllib, compiled: 3x faster on big runbooks
from pydantic import ValidationError

from tui.runbook.branching import check_branching
from tui.runbook.kinds import KINDS
from tui.runbook.model import ID_PATTERN, SCHEMA_VERSION, Runbook
from tui.runbook.positions import Path, scan
from tui.runbook.problems import Problem, RunbookError
from tui.runbook.semantics import Report, ReportInValue, check_semantics

MAX_BYTES = 2 * 1024 * 1024


@dataclass
class Loaded:
    """The outcome of loading: a runbook when there were no problems."""

    path: str
    runbook: Runbook | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.runbook is not None and not self.problems


def load(path: str | FsPath) -> Loaded:
    name = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Loaded(name, None, [Problem(name, 1, 1, f"cannot read the file: {exc.strerror or exc}")])
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str) -> Loaded:
    """A runbook's bytes (a file's, or standard input's for ``validate -``), checked as :func:`load` does."""
    if len(raw) > MAX_BYTES:
        return Loaded(name, None, [Problem(name, 1, 1, f"file is larger than {MAX_BYTES // 1024} KiB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        return Loaded(name, None, [Problem(name, line, col, "file is not valid UTF-8 (save it as UTF-8)")])
    return load_text(text, name)


def load_or_raise(path: str | FsPath) -> Runbook:
    loaded = load(path)
    if not loaded.ok:
        raise RunbookError(loaded.problems)
    assert loaded.runbook is not None
    return loaded.runbook


def load_text(text: str, name: str = "<runbook>") -> Loaded:
    if len(text) > MAX_BYTES:
        return Loaded(name, None, [Problem(name, 1, 1, f"file is larger than {MAX_BYTES // 1024} KiB")])
    if not text.strip():
        return Loaded(name, None, [Problem(name, 1, 1, "the file is empty (a runbook starts with 'schema = 1')")])
    # Editors on some systems write a byte-order mark and CRLF; neither changes a line or column.
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Loaded(name, None, [_syntax_problem(name, exc, text)])
    except RecursionError:
        return Loaded(name, None, [Problem(name, 1, 1, "TOML nesting is too deep")])

    # Positions cost as much as parsing, and a valid runbook needs none: find them only to report.
    found: list[tuple[Path, int | None, str]] = []

    def report(path: Path, message: str) -> None:
        found.append((path, None, message))

    def report_in_value(path: Path, index: int, message: str) -> None:
        found.append((path, index, message))

    runbook = _validate(data, report, report_in_value)
    if not found:
        return Loaded(name, runbook, [])
    try:
        positions = scan(text)
    except RecursionError:
        return Loaded(name, None, [Problem(name, 1, 1, "TOML nesting is too deep")])
    problems: set[Problem] = set()
    for path, index, message in found:
        line, col = positions.locate(path) if index is None else positions.locate_in_value(text, path, index)
        problems.add(Problem(name, line, col, _one_line(message)))
    return Loaded(name, None, sorted(problems))


def _validate(data: dict[str, Any], report: Report, report_in_value: ReportInValue) -> Runbook | None:
    """The typed runbook, if the schema is one this code reads; every problem goes to ``report``."""
    schema = data.get("schema")
    if type(schema) is not int or schema != SCHEMA_VERSION:  # true and 1.0 equal 1 in Python, not in TOML
        report(
            ("schema",),
            "missing 'schema = 1' at the top of the runbook"
            if schema is None
            else f"unsupported schema {json.dumps(schema, default=str)} (this rbconsole reads schema {SCHEMA_VERSION})",
        )
        return None
    runbook: Runbook | None = None
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as exc:
        _type_problems(exc, data, report)
    except RecursionError:
        report((), "runbook nesting is too deep")
    try:
        check_semantics(data, report, report_in_value)
        check_branching(data, report, report_in_value)
    except RecursionError:
        report((), "runbook nesting is too deep")
    return runbook


# tomli's messages, matched below to say the same in a runbook author's words: the wording is
# not API, so pyproject pins tomli's major and tests/test_public_apis.py checks each one.
TOML_MESSAGES = {
    "overwrite": "Cannot overwrite a value",
    "declare": "Cannot declare",
    "inline": "Duplicate inline table key",
    "newline": "Illegal character '\\n'",
    "unterminated": "Unterminated string",
}


def _syntax_problem(name: str, exc: tomllib.TOMLDecodeError, text: str) -> Problem:
    # msg, lineno and colno are public since tomli 2.1; pos is at or past the end of the document
    # when tomli stopped there (it then reports no line).
    message = exc.msg
    lines = text.split("\n")
    if exc.pos < len(exc.doc):
        line, col = exc.lineno, exc.colno
    else:
        # the last character is where it gave up
        body = text.rstrip()
        line = body.count("\n") + 1
        col = len(body) - (body.rfind("\n") + 1) + 1
        opener = max(text.rfind('"""'), text.rfind("'''"))
        if message == TOML_MESSAGES["unterminated"] and opener >= 0 and _odd(text, text[opener : opener + 3]):
            line = text.count("\n", 0, opener) + 1
            col = opener - (text.rfind("\n", 0, opener) + 1) + 1
            return Problem(name, line, col, "TOML syntax error: a multi-line string opened here is never closed")
        message += " at the end of the file"
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    key = re.match(r"\s*([^=\[\]#]+?)\s*=", source)
    if message == TOML_MESSAGES["overwrite"] and key:
        col = key.start(1) + 1
        message = f"duplicate key '{key.group(1).strip()}' (already set above)"
    elif message.startswith(TOML_MESSAGES["declare"]) and source.lstrip().startswith("["):
        col = len(source) - len(source.lstrip()) + 1
        message = f"table {source.strip()} is declared twice"
    elif message.startswith(TOML_MESSAGES["inline"]):
        message = "duplicate key" + message.removeprefix(TOML_MESSAGES["inline"])
    elif message == TOML_MESSAGES["newline"]:
        message = 'unterminated string (a line break inside a "..." string; use """ for several lines)'
    return Problem(name, line, col, f"TOML syntax error: {message[:1].lower()}{message[1:]}")


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _odd(text: str, quote: str) -> bool:
    return text.count(quote) % 2 == 1


def _type_problems(exc: ValidationError, data: dict[str, Any], report: Report) -> None:
    seen_paths: set[Path] = set()
    for error in exc.errors(include_url=False, include_input=False):
        path, missing, via_union = _data_path(tuple(error["loc"]), data)
        if via_union:
            if path in seen_paths:
                continue
            seen_paths.add(path)
        report(path, _message(error, path, missing))


def _data_path(loc: tuple[Any, ...], data: Any) -> tuple[Path, str | None, bool]:
    """The part of a pydantic location that exists in the data, the missing key at its end,
    and whether a union member's name had to be skipped on the way."""
    path: list[str | int] = []
    node = data
    via_union = False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
            path.append(part)
        elif last and isinstance(node, dict):
            return tuple(path), str(part), via_union
        else:
            via_union = True
    return tuple(path), None, via_union


def _message(error: dict[str, Any], path: Path, missing: str | None) -> str:
    kind = error["type"]
    where = ".".join(str(p) for p in path) or "runbook"
    if kind == "missing" and missing:
        return f"missing required key '{missing}' in {where}"
    if kind == "extra_forbidden":
        return f"unknown key '{path[-1] if path else missing}' in {'.'.join(str(p) for p in path[:-1]) or 'runbook'}"
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag", "?")
        return f"unknown kind '{tag}' in {where} (expected one of: {', '.join(KINDS)})"
    if kind == "union_tag_not_found":
        return f"missing 'kind' in {where} (one of: {', '.join(KINDS)})"
    pattern = str(error.get("ctx", {}).get("pattern", ""))
    if kind == "string_pattern_mismatch" and pattern == ID_PATTERN:
        return f"{where}: not a valid id (letters, digits, '_', '.', '-', starting with a letter or digit)"
    if kind == "string_pattern_mismatch" and pattern.startswith("^(stdout"):
        return f"{where}: a capture is 'stdout', 'stderr', 'json:PATH' or 'regex:PATTERN'"
    message = str(error["msg"]).removeprefix("Value error, ")
    if path[:1] == ("checklists",) and len(path) == 3:
        message = "an item is a string or a table with 'text' (and optional 'check')"
    return f"{where}: {message}"
