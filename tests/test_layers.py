"""The layers the build checks: pyproject's import-linter contracts hold, every package is in a
layer, and no project modules (nor packages) import each other in a cycle, deferred imports
inside functions and type-only imports included."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("tui", "screens")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS, cache_dir=None)


def layers_contract() -> dict:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["id"] == "layers"]
    return contract


def layers() -> list[str]:
    return [name.strip() for layer in layers_contract()["layers"] for name in layer.replace(":", "|").split("|")]


def allowed() -> set[tuple[str, str]]:
    """The imports the layers contract lets through (each written there with its reason)."""
    return {tuple(part.strip() for part in rule.split("->")) for rule in layers_contract().get("ignore_imports", [])}  # type: ignore[misc]


def imports(graph: grimp.ImportGraph, module: str) -> set[str]:
    return {i for i in graph.find_modules_directly_imported_by(module) if (module, i) not in allowed()}


def unit(module: str) -> str:
    """What a layer names: ``screens``, a package under ``tui`` (``tui.engine``) or a module (``tui.app``)."""
    parts = module.split(".")
    return "screens" if parts[0] == "screens" else ".".join(parts[:2])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def explain(graph: grimp.ImportGraph, component: list[str], of: dict[str, str] | None = None) -> str:
    """Each import inside a cycle, with its file line, so the message says what to break."""
    members = set(component)
    lines = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            a, b = (of[importer], of[imported]) if of else (importer, imported)
            if a != b and a in members and b in members:
                for detail in graph.get_import_details(importer=importer, imported=imported):
                    lines.append(f"  {importer}:{detail['line_number']} imports {imported}: {detail['line_contents']}")
    return "\n".join(lines)


def test_the_layer_contracts_hold() -> None:
    # In a child process: lint_imports configures logging with dictConfig, which would disable
    # the loggers of every module this test process has imported.
    code = (
        "import sys\nfrom importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(REPO / 'pyproject.toml')!r}, no_cache=True, no_logo=True))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Layers: each package imports only from the layers below it KEPT" in out
    assert "The core imports no Textual and no UI module KEPT" in out


def test_every_package_and_top_module_is_in_a_layer(graph: grimp.ImportGraph) -> None:
    named = set(layers())
    units = {unit(m) for m in graph.modules if m not in ROOTS}
    assert units - named == set(), "put it in a layer of [tool.importlinter] (docs/ARCHITECTURE.md says which)"
    assert named - units == set(), "a layer names a package that does not exist"


def test_no_import_cycle_between_modules(graph: grimp.ImportGraph) -> None:
    edges = {m: imports(graph, m) for m in graph.modules}
    found = cycles(edges)
    assert not found, "\n".join(f"cycle {' <-> '.join(c)}:\n{explain(graph, c)}" for c in found)


def test_no_import_cycle_between_packages(graph: grimp.ImportGraph) -> None:
    of = {m: unit(m) for m in graph.modules}
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        edges[of[module]] |= {of[i] for i in imports(graph, module)} - {of[module]}
    found = cycles(dict(edges))
    assert not found, "\n".join(f"cycle {' <-> '.join(c)}:\n{explain(graph, c, of)}" for c in found)


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The checks above can fail: a three-module loop and a self-contained pair are both reported."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(edges) == [["a", "b", "c"], ["d", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_console_app_is_what_the_screens_ask_for() -> None:
    from screens.console import Console
    from tui.app import create_app

    assert isinstance(create_app(None), Console)


def test_the_screens_know_the_type_of_the_console_options() -> None:
    """One options type: what the app holds is what the interface names, with no ``Any`` between."""
    import typing

    import screens.console
    from screens.console import Console, ConsoleOptions
    from tui.app import create_app
    from tui.engine.api import StartOptions

    named = Console.__annotations__["options"]  # a string (postponed annotations): resolve it where it is written
    assert eval(named, vars(screens.console)) is ConsoleOptions
    assert typing.get_type_hints(ConsoleOptions)["start"] is StartOptions
    app = create_app(None, start=StartOptions(operator="ana"))
    assert type(app.options) is ConsoleOptions and app.options.start.operator == "ana"
