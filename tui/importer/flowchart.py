"""ASCII flowcharts as graphs: the two shapes rollback documents draw.

- a column of steps joined by arrow lines (``发现问题`` / ``↓`` / ``评估影响`` / ``↓`` …);
- boxes drawn with box-drawing characters, joined by ``│`` lines that end in ``▼`` on the next
  box and fork along ``┌──┼──┐`` / ``┌──┴──┐`` rules.

CJK characters take two columns in the drawing, so the grid is laid out by display width. A chart
that reads as neither gives ``None`` and stays text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_ARROW_LINE = re.compile(r"^\s*(↓|▼|⬇|v|V|\||│|⇓)\s*$")
_BOX_CHARS = set("┌┐└┘─│┬┴┼├┤▼")
_FILL = "\0"


@dataclass
class Graph:
    texts: list[str]
    edges: dict[int, list[int]] = field(default_factory=dict)  # node → the nodes it leads to, left to right

    def start(self) -> int:
        targets = {t for ts in self.edges.values() for t in ts}
        return next(n for n in range(len(self.texts)) if n not in targets)


def parse_chart(text: str) -> Graph | None:
    lines = [line.rstrip() for line in text.split("\n")]
    if any(ch in _BOX_CHARS - {"│", "▼"} for line in lines for ch in line):
        return _boxes(lines)
    return _column(lines)


def _column(lines: list[str]) -> Graph | None:
    texts: list[str] = []
    arrow = False
    for line in (line for line in lines if line.strip()):
        if _ARROW_LINE.match(line):
            if not texts or arrow:
                return None
            arrow = True
        else:
            if texts and not arrow:
                return None  # two steps with no arrow between them: not a column chart
            texts.append(line.strip())
            arrow = False
    if len(texts) < 3 or arrow:
        return None
    return Graph(texts, {n: [n + 1] for n in range(len(texts) - 1)})


def _grid(lines: list[str]) -> list[list[str]]:
    grid = []
    for line in lines:
        row: list[str] = []
        for ch in line:
            row.append(ch)
            if unicodedata.east_asian_width(ch) in ("W", "F"):
                row.append(_FILL)
        grid.append(row)
    return grid


def _near(grid: list[list[str]], r: int, c: int, chars: str, reach: int = 2) -> int | None:
    """The column of one of ``chars`` in row ``r`` nearest to ``c`` (within ``reach``)."""
    if not 0 <= r < len(grid):
        return None
    for d in sorted(range(-reach, reach + 1), key=abs):
        if 0 <= c + d < len(grid[r]) and grid[r][c + d] in chars:
            return c + d
    return None


@dataclass
class _Box:
    top: int
    left: int
    bottom: int
    right: int
    text: str


def _boxes(lines: list[str]) -> Graph | None:
    grid = _grid(lines)

    def at(r: int, c: int) -> str:
        return grid[r][c] if 0 <= r < len(grid) and 0 <= c < len(grid[r]) else " "

    boxes: list[_Box] = []
    for r, row in enumerate(grid):
        for c, ch in enumerate(row):
            if ch != "┌":
                continue
            right = c + 1
            while at(r, right) in "─┬┴▼┼":
                right += 1
            if at(r, right) != "┐":
                continue
            # CJK text drawn a column too wide pushes the borders of the boxes beside it: follow
            # the left border down within a column or two of where it started
            bottom, edge, inner = r + 1, c, []
            while (found := _near(grid, bottom, edge, "│├└")) is not None and at(bottom, found) != "└":
                edge = found
                end = next((x for x in range(edge + 1, len(grid[bottom])) if grid[bottom][x] in "│┤"), None)
                inner.append("".join(ch for ch in grid[bottom][edge + 1 : end] if ch != _FILL).strip())
                bottom += 1
            if found is None or bottom == r + 1 or _near(grid, bottom, right, "┘") is None:
                continue
            left = found
            right = _near(grid, bottom, right, "┘") or right
            boxes.append(_Box(r, left, bottom, right, " ".join(t for t in inner if t)))
    if len(boxes) < 3:
        return None
    tops = {(b.top, col): n for n, b in enumerate(boxes) for col in range(b.left, b.right + 1)}
    graph = Graph([b.text for b in boxes])

    def follow(r: int, c: int, seen: set[tuple[int, int]]) -> list[int]:
        if (r, c) in seen:
            return []
        seen.add((r, c))
        if (r, c) in tops:
            return [tops[(r, c)]]
        ch = at(r, c)
        if ch in "│▼↓":
            return follow(r + 1, c, seen)
        if ch not in "┼┴┬┘└┌┐─":
            return []
        found: list[int] = []
        left = c
        while at(r, left - 1) in "─┬┴┼┌└":
            left -= 1
        right = c
        while at(r, right + 1) in "─┬┴┼┐┘":
            right += 1
        for col in range(left, right + 1):
            if at(r, col) in "┬┼┌┐":  # the corners and tees with an arm pointing down
                found += [n for n in follow(r + 1, col, seen) if n not in found]
        return found

    for n, box in enumerate(boxes):
        targets: list[int] = []
        for col in range(box.left, box.right + 1):
            if at(box.bottom, col) == "┬":
                targets += [t for t in follow(box.bottom + 1, col, set()) if t not in targets and t != n]
        if targets:
            graph.edges[n] = sorted(targets, key=lambda t: boxes[t].left)
    if not graph.edges:
        return None
    return graph


_NAMES_PLAN = re.compile(r"(?:方案|预案|Plan|Option|Stage|阶段)\s*([A-Za-z0-9]+)", re.IGNORECASE)
_EXECUTES = re.compile(
    r"(执行|立即|开始|马上|严重).{0,6}(回滚|回退)|^(回滚|回退)$|(execute|perform|start|do)\b.{0,12}\broll ?back|^roll ?back$",
    re.IGNORECASE,
)
_OBSERVE = re.compile(r"观察|继续|observe|monitor|continue|watch", re.IGNORECASE)
_PAUSE = re.compile(r"暂停|pause|hold|freeze", re.IGNORECASE)


def to_flow(graph: Graph, plans: list[str], choose: bool) -> dict[str, Any] | None:
    """The graph as ``[flow]`` nodes: a box that names a plan recommends it; one that says "roll
    back" leads to the plan choice (``choose``) or the only plan; boxes after it (verify, review)
    become its notes; a fork asks; a dead end observes or pauses. None when no box leads to a plan."""
    nodes: dict[str, dict[str, Any]] = {}
    leads = False

    def ident(n: int) -> str:
        return f"chart-{n + 1}"

    def after(n: int) -> list[str]:
        seen, order, todo = set(), [], list(graph.edges.get(n, []))
        while todo:
            m = todo.pop(0)
            if m not in seen:
                seen.add(m)
                order.append(graph.texts[m])
                todo += graph.edges.get(m, [])
        return order

    todo = [graph.start()]
    while todo:
        n = todo.pop(0)
        if ident(n) in nodes:
            continue
        text = graph.texts[n] or f"step {n + 1}"
        node: dict[str, Any] = {"text": text}
        named = next((m.group(1).upper() for m in _NAMES_PLAN.finditer(text) if m.group(1).upper() in plans), None)
        targets = graph.edges.get(n, [])
        if named or (_EXECUTES.search(text) and (choose or len(plans) == 1)):
            if named or not choose:
                node["plan"] = named or plans[0]
            else:
                node["next"] = "choose"
            rest = after(n)
            if rest:
                node["notes"] = "然后 / then: " + " → ".join(rest)
            leads = True
        elif len(targets) == 1:
            node["next"] = ident(targets[0])
            todo.append(targets[0])
        elif targets:
            node["ask"] = f"{text}？"
            node["options"] = [{"label": graph.texts[t] or f"step {t + 1}", "next": ident(t)} for t in targets]
            todo += targets
        else:
            node["action"] = "pause" if _PAUSE.search(text) and not _OBSERVE.search(text) else "observe"
        nodes[ident(n)] = node
    if not leads:
        return None
    return {"start": ident(graph.start()), "nodes": nodes}
