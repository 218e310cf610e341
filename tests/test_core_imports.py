"""The core (runbook, engine, executors, record, drill, demo, the headless validate / schema / import
commands, the CLI) never loads Textual, and the CLI loads no heavy client library until a command
needs it.

Each module is imported in a fresh process: one interpreter starts, loads pydantic (a core dependency
that is known to be Textual-free, and slow to import), then forks a child per module, so every module
starts from a clean ``sys.modules`` without paying the interpreter's start-up forty times over.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE_DIRS = ["runbook", "engine", "executors", "record", "drill", "headless", "demo", "importer"]
HEAVY = ["asyncssh", "psycopg", "git", "httpx"]
UI = ("textual", "tui.app", "tui.widgets", "screens")


def core_files() -> list[Path]:
    files = [p for d in CORE_DIRS for p in sorted((REPO / "tui" / d).rglob("*.py")) if p.name != "__main__.py"]
    commands = [REPO / "tui" / "commands" / f"{name}.py" for name in ("validate", "schema", "import")]
    return [*files, *commands, REPO / "tui" / "cli.py"]


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = [module_name(p) for p in core_files()]

_PROBE = r"""
import importlib, json, os, sys
import pydantic  # noqa: F401
names = json.loads(sys.argv[1])
heavy = json.loads(sys.argv[2])
assert not any(m == "textual" or m.startswith("textual.") for m in sys.modules)
results = {}
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            report = {
                "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
                "heavy": sorted(h for h in heavy if h in sys.modules),
                "error": None,
            }
        except BaseException as exc:
            report = {"textual": [], "heavy": [], "error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    results[name] = json.loads(b"".join(chunks) or b'{"error": "the child died"}')
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def imported() -> dict[str, dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(MODULES), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_the_core_was_found() -> None:
    assert {"tui.runbook.loader", "tui.runbook.model", "tui.executors.base", "tui.cli"} <= set(MODULES)
    assert len(MODULES) >= 15


@pytest.mark.parametrize("module", MODULES)
def test_core_module_does_not_load_textual(imported: dict[str, dict[str, Any]], module: str) -> None:
    result = imported[module]
    assert result["error"] is None, result["error"]
    assert not result["textual"], f"{module} loads {result['textual'][:3]}"


@pytest.mark.parametrize("module", ["tui.cli", "tui.commands.validate", "tui.runbook.loader"])
def test_no_heavy_client_library_at_import(imported: dict[str, dict[str, Any]], module: str) -> None:
    assert imported[module]["heavy"] == [], f"{module} imports {imported[module]['heavy']} eagerly"


def test_version_loads_nothing_heavy() -> None:
    code = (
        "import sys\nfrom tui.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {[*HEAVY, 'textual', 'pydantic']!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip().endswith("[]"), out.stdout


@pytest.mark.parametrize("path", core_files(), ids=lambda p: module_name(p))
def test_no_ui_import_anywhere_in_core_source(path: Path) -> None:
    """The static guard: also catches an import of Textual tucked inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            assert not name.startswith(UI), f"{path.relative_to(REPO)}:{node.lineno}: imports {name}"
