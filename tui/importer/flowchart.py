"""ASCII flowcharts as graphs: the two shapes rollback documents draw.

- a column of steps joined by arrow lines (``发现问题`` / ``↓`` / ``评估影响`` / ``↓`` …);
- boxes drawn with box-drawing characters, joined by ``│`` lines that end in ``▼`` on the next
  box and fork along ``┌──┼──┐`` / ``┌──┴──┐`` rules, or leave a box sideways (``├──NO──►│``);
  a word beside a line (``│ YES``, ``否``) or over a sideways arrow labels that branch;
- a decision tree drawn with ``├─`` / ``└─`` (often inside one frame box): each item a condition,
  ``→ OUTCOME`` where it says what to do (``Error rate > 20%? → ROLLBACK``), its children the
  conditions to ask next.

CJK characters take two columns in the drawing, so the grid is laid out by display width. A chart
that reads as none of these gives ``None`` and stays text; the parts of a chart that do not read
(a box nothing leads to, an item with no outcome, an outcome that names no plan or action) are
listed with their row so the import can report them.
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
    labels: dict[tuple[int, int], str] = field(default_factory=dict)  # (from, to) → the branch's label
    rows: list[int] = field(default_factory=list)  # each node's row in the drawing (0: its first line)
    # a tree item's condition, read for what to do when its outcome says nothing ("Run rollback migration → Safe")
    conditions: dict[int, str] = field(default_factory=dict)
    unread: list[tuple[int, str]] = field(default_factory=list)  # (row, text) of what did not read as a chart

    def start(self) -> int:
        targets = {t for ts in self.edges.values() for t in ts}
        return next(n for n in range(len(self.texts)) if n not in targets)

    def add(self, text: str, row: int) -> int:
        self.texts.append(text)
        self.rows.append(row)
        return len(self.texts) - 1

    def link(self, source: int, target: int, label: str = "") -> None:
        self.edges.setdefault(source, []).append(target)
        if label:
            self.labels[(source, target)] = label


def parse_chart(text: str) -> Graph | None:
    lines = [line.rstrip() for line in text.split("\n")]
    if sum(bool(_TREE_ITEM.match(line)) for line in _unframed(lines)[0]) >= 2:
        return _tree(lines)
    if any(ch in _BOX_CHARS - {"│", "▼"} for line in lines for ch in line):
        return _boxes(lines)
    return _column(lines)


def _column(lines: list[str]) -> Graph | None:
    graph = Graph([])
    arrow = False
    for row, line in enumerate(lines):
        if not line.strip():
            continue
        if _ARROW_LINE.match(line):
            if not graph.texts or arrow:
                return None
            arrow = True
        else:
            if graph.texts and not arrow:
                return None  # two steps with no arrow between them: not a column chart
            n = graph.add(line.strip(), row)
            if n:
                graph.link(n - 1, n)
            arrow = False
    if len(graph.texts) < 3 or arrow:
        return None
    return graph


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


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


_SIDEWAYS = "─━-►▶→>"
_LABEL_GAP = 2  # a label sits this close beside a line: `│ YES`, `否 │`


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
                # the text ends at this box's own right border (an arrow may leave it sideways: `├──►`)
                end = _near(grid, bottom, right, "│┤├")
                if end is None or end <= edge:
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
    lefts = {(row, b.left): n for n, b in enumerate(boxes) for row in range(b.top + 1, b.bottom)}
    graph = Graph([])
    for box in boxes:
        graph.add(box.text, box.top)

    def text_at(r: int, start: int, end: int, drawn: str = "") -> str:
        """The words in row ``r`` between two columns; none where other drawing stands there
        (``drawn``: the characters of the arrow itself, left out)."""
        cells = [at(r, c) for c in range(start, end) if at(r, c) not in drawn]
        if any(ch in _BOX_CHARS for ch in cells):
            return ""
        return " ".join("".join(ch for ch in cells if ch != _FILL).split())

    def word(r: int, c: int, step: int) -> str:
        """The word written next to column ``c`` of row ``r``, to its right (``step`` 1) or left (-1)."""
        x, gap = c + step, 0
        while at(r, x) == " " and gap < _LABEL_GAP:
            x, gap = x + step, gap + 1
        cells: list[str] = []
        while 0 <= x < (len(grid[r]) if 0 <= r < len(grid) else 0):
            ch = at(r, x)
            if ch in _BOX_CHARS or ch in "▼↓" or (ch == " " and at(r, x + step) == " "):
                break
            cells.append(ch)
            x += step
        return "".join(ch for ch in (cells if step > 0 else cells[::-1]) if ch != _FILL).strip()

    def beside(r: int, c: int) -> str:
        """A label written next to a vertical line: `│ YES` or `NO │`."""
        return word(r, c, 1) or word(r, c, -1)

    def follow(r: int, c: int, seen: set[tuple[int, int]], label: str) -> list[tuple[int, str]]:
        if (r, c) in seen:
            return []
        seen.add((r, c))
        if (r, c) in tops:
            return [(tops[(r, c)], label)]
        ch = at(r, c)
        if ch in "│▼↓":
            return follow(r + 1, c, seen, label or beside(r, c))
        if ch not in "┼┴┬┘└┌┐─":
            return []
        found: list[tuple[int, str]] = []
        left = c
        while at(r, left - 1) in "─┬┴┼┌└":
            left -= 1
        right = c
        while at(r, right + 1) in "─┬┴┼┐┘":
            right += 1
        arms = [col for col in range(left, right + 1) if at(r, col) in "┬┼┌┐"]  # arms pointing down
        for col in arms:
            # a label on the trunk above a fork belongs to no one arm; below it, each arm has its own
            found += [t for t in follow(r + 1, col, seen, label if len(arms) == 1 else "") if t not in found]
        return found

    def sideways(box: _Box) -> list[tuple[int, str]]:
        """Arrows leaving the box's right border (`├───►│`), to the box they reach, with their label."""
        out = []
        for r in range(box.top + 1, box.bottom):
            c = _near(grid, r, box.right, "│├┤")
            if c is None or (at(r, c) != "├" and at(r, c + 1) not in _SIDEWAYS):
                continue
            col = c + 1
            while col < len(grid[r]) and (r, col) not in lefts and at(r, col) not in _BOX_CHARS - {"─"}:
                col += 1
            # the border it reaches, a column off where CJK text beside it was drawn a column short
            target = next((lefts[(r, x)] for x in (col, col + 1, col - 1) if (r, x) in lefts), None)
            if target is None or not any(at(r, x) in _SIDEWAYS for x in range(c + 1, col)):
                continue
            words = text_at(r, c + 1, col, drawn=_SIDEWAYS)
            label = words or text_at(r - 1, c + 1, col) or text_at(r + 1, c + 1, col)
            out.append((target, label))
        return out

    for n, box in enumerate(boxes):
        targets: list[tuple[int, str]] = []
        for col in range(box.left, box.right + 1):
            if at(box.bottom, col) == "┬":
                targets += [t for t in follow(box.bottom + 1, col, set(), "") if t[0] != n]
        targets += [t for t in sideways(box) if t[0] != n]
        for target, label in sorted(dict(targets[::-1]).items(), key=lambda t: (boxes[t[0]].left, boxes[t[0]].top)):
            graph.link(n, target, label)
    if not graph.edges:
        return None
    return graph


# --- decision trees ------------------------------------------------------------------------------

_TREE_ITEM = re.compile(r"^(?P<lead>[\s│|]*)(?P<mark>[├└]─+|[|`+]--+)\s*(?P<text>[^\s─►▶→▼┤│┬┴┼┐┘┌└├].*\w.*)$")
_FRAME_RULE = re.compile(r"^[├┝╞]─+[┤┥╡]$")
_ARROWS = re.compile(r"\s*(?:→|->|=>|⇒|⟶)\s*")


@dataclass
class _Item:
    row: int
    col: int  # where its ├─ / └─ stands (-1: the tree's root line, which has none)
    text: str
    children: list[_Item] = field(default_factory=list)

    @property
    def condition(self) -> str:
        """What is asked: the words before its last arrow ("Investigate 5 min → Still high?")."""
        parts = _ARROWS.split(self.text)
        return " → ".join(parts[:-1]) if len(parts) > 1 else self.text

    @property
    def outcome(self) -> str:
        """What the item says to do: the words after its last arrow."""
        parts = _ARROWS.split(self.text)
        return parts[-1] if len(parts) > 1 else ""


def _unframed(lines: list[str]) -> tuple[list[str], str]:
    """The drawing inside one frame box (``┌──┐ │ … │ └──┘``), row for row (the frame's own rows
    blank), and the frame's title (the rows above a ``├──┤`` rule); a drawing with no frame as it is."""
    rows = [line.strip() for line in lines]
    filled = [n for n, row in enumerate(rows) if row]
    if len(filled) < 3 or not (rows[filled[0]].startswith("┌") and rows[filled[0]].endswith("┐")):
        return lines, ""
    first, last = filled[0], filled[-1]
    if not (rows[last].startswith("└") and rows[last].endswith("┘")):
        return lines, ""
    if not all(not rows[n] or rows[n][0] in "│├" for n in range(first + 1, last)):
        return lines, ""
    inside = [""] * len(lines)
    title = ""
    for n in range(first + 1, last):
        if _FRAME_RULE.match(rows[n]):
            title = " ".join(inside[m].strip() for m in range(first + 1, n) if inside[m].strip())
            inside[first + 1 : n] = [""] * (n - first - 1)
            continue
        row = rows[n][1:] if rows[n].startswith("│") else rows[n]
        inside[n] = row[:-1] if row.endswith("│") else row
    return inside, title


def _tree(lines: list[str]) -> Graph | None:
    body, title = _unframed(lines)
    roots: list[_Item] = []
    stack: list[_Item] = []
    for row, line in enumerate(body):
        if not line.strip(" │|"):
            continue
        if match := _TREE_ITEM.match(line):
            item = _Item(row, _width(match.group("lead")), match.group("text").strip())
            while stack and stack[-1].col >= item.col:
                stack.pop()
            (stack[-1].children if stack else roots).append(item)
            stack.append(item)
        elif not stack:
            roots.append(_Item(row, -1, line.strip(" │|")))
            stack.append(roots[-1])
        else:
            stack[-1].text += " " + line.strip(" │|")  # an item written over two lines
    items = [*roots]
    for item in items:
        items += item.children
    if len(items) < 3 or not any(i.outcome for i in items):
        return None
    graph = Graph([])
    if len(roots) == 1 and not roots[0].outcome:
        start = graph.add(roots[0].text, roots[0].row)
        asked = roots[0].children
    else:  # the first line is one condition among its children ("… failing? → ROLLBACK", then ├─ the others)
        start = graph.add(
            f"{title} — which of these do you see?" if title else "Which of these do you see?", roots[0].row
        )
        asked = [_Item(r.row, r.col, r.text) for r in roots] + [c for r in roots for c in r.children]
    for item in asked:
        _branch(graph, start, item)
    if not graph.edges.get(start):
        return None
    return graph


def _branch(graph: Graph, parent: int, item: _Item) -> None:
    """``item`` as a branch of ``parent``: its condition labels the branch; it leads to its outcome,
    or to a question over its children (its own outcome is then what holds when none of them does)."""
    notes = [c for c in item.children if not c.outcome and not c.children]
    asks = [c for c in item.children if c not in notes]
    if not asks:
        if not item.outcome:
            graph.unread.append((item.row, item.text))  # a condition that says nothing to do
            return
        text = item.outcome + "".join(f" — {c.text}" for c in notes)  # `└─ CTO approval required`
        outcome = graph.add(text, item.row)
        graph.conditions[outcome] = item.condition
        graph.link(parent, outcome, item.condition)
        return
    graph.unread += [(c.row, c.text) for c in notes]
    question = graph.add(item.condition, item.row)
    graph.link(parent, question, item.condition)
    for child in asks:
        _branch(graph, question, child)
    if item.outcome:
        otherwise = graph.add(item.outcome, item.row)
        graph.link(question, otherwise, "none of these")


# --- as [flow] -----------------------------------------------------------------------------------

_NAMES_PLAN = re.compile(r"(?:方案|预案|Plan|Option|Stage|阶段)\s*([A-Za-z0-9]+)", re.IGNORECASE)
_EXECUTES = re.compile(
    r"(执行|立即|开始|马上|严重).{0,6}(回滚|回退)|^(回滚|回退)$|(execute|perform|start|do)\b.{0,12}\broll ?back|^roll ?back$",
    re.IGNORECASE,
)
# at a dead end, any word for rolling back is what to do (unless it says not to)
_ROLLS_BACK = re.compile(r"\broll(?:ing)?[ -]?back\b|回滚|回退|\brevert\b", re.IGNORECASE)
_NOT = re.compile(r"\bno\b|\bnot\b|n't\b|\bwithout\b|不|无需|无须|别|勿|未", re.IGNORECASE)
_OBSERVE = re.compile(r"观察|继续|监控|observe|monitor|continue|watch|keep|resolved|ok\b|正常", re.IGNORECASE)
_ESCALATE = re.compile(r"consult|escalat|approv|page\b|上报|升级|请示|审批|决策|\bDBA\b|\bCTO\b", re.IGNORECASE)
_PAUSE = re.compile(r"暂停|pause|hold|freeze|stop", re.IGNORECASE)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _named(text: str, plans: dict[str, str], titles: bool = True) -> str | None:
    """The plan a text names: by its key (方案 A, Plan 2) or (``titles``) by its title, when one
    title fits."""
    named = next((m.group(1).upper() for m in _NAMES_PLAN.finditer(text) if m.group(1).upper() in plans), None)
    if named or not titles:
        return named
    words = f" {_words(text)} "
    fits = [k for k, title in plans.items() if len(_words(title)) >= 6 and f" {_words(title)} " in words]
    return fits[0] if len(fits) == 1 else None


def _dead_end(text: str, plans: dict[str, str], choose: bool) -> dict[str, str] | None:
    """What a box that leads nowhere says to do; None when it says nothing the flowchart knows."""
    if plan := _named(text, plans):
        return {"plan": plan}
    if _ROLLS_BACK.search(text) and not _NOT.search(text):
        return {"next": "choose"} if choose else {"plan": next(iter(plans))} if len(plans) == 1 else None
    if _ROLLS_BACK.search(text) or _OBSERVE.search(text):  # "No rollback needed": no rollback, keep watching
        return {"action": "observe"}
    if _ESCALATE.search(text):
        return {"action": "escalate"}
    if _PAUSE.search(text):
        return {"action": "pause"}
    return None


@dataclass
class Chart:
    flow: dict[str, Any]
    unread: list[tuple[int, str]]  # (row in the drawing, text): what the flowchart does not say


def to_flow(graph: Graph, plans: dict[str, str], choose: bool) -> Chart | None:
    """The graph as ``[flow]`` nodes (``plans``: key → title): a box that names a plan recommends
    it; one that says "roll back" leads to the plan choice (``choose``) or the only plan; boxes
    after it (verify, review) become its notes; a fork asks, each branch by its label; a dead end
    observes, escalates or pauses as it says. A dead end that says none of these pauses (the
    operator decides) and is reported. None when no box leads to a plan."""
    nodes: dict[str, dict[str, Any]] = {}
    unread = list(graph.unread)
    leads = False
    read: set[int] = set()

    def ident(n: int) -> str:
        return f"chart-{n + 1}"

    def after(n: int) -> list[int]:
        seen, order, todo = set(), [], list(graph.edges.get(n, []))
        while todo:
            m = todo.pop(0)
            if m not in seen:
                seen.add(m)
                order.append(m)
                todo += graph.edges.get(m, [])
        return order

    def label(n: int, t: int) -> str:
        branch, text = graph.labels.get((n, t), ""), graph.texts[t] or f"step {t + 1}"
        return f"{branch} → {text}" if branch and branch != text else branch or text

    todo = [graph.start()]
    while todo:
        n = todo.pop(0)
        if ident(n) in nodes:
            continue
        read.add(n)
        text = graph.texts[n] or f"step {n + 1}"
        node: dict[str, Any] = {"text": text}
        named = _named(text, plans, titles=False)
        targets = graph.edges.get(n, [])
        if targets and (named or (_EXECUTES.search(text) and (choose or len(plans) == 1))):
            if named or not choose:
                node["plan"] = named or next(iter(plans))
            else:
                node["next"] = "choose"
            rest = after(n)
            read.update(rest)
            if rest:
                node["notes"] = "然后 / then: " + " → ".join(graph.texts[m] for m in rest)
            leads = True
        elif len(targets) == 1:
            node["next"] = ident(targets[0])
            todo.append(targets[0])
        elif targets:
            node["ask"] = text if text.endswith(("?", "？")) else f"{text}？"
            node["options"] = [{"label": label(n, t), "next": ident(t)} for t in targets]
            todo += targets
        else:
            end = _dead_end(text, plans, choose)
            condition = graph.conditions.get(n, "")
            if end is None and condition and (end := _dead_end(condition, plans, choose)):
                node["text"] = f"{condition} → {text}"  # "Run rollback migration → Safe"
            if end is None:
                end = {"action": "pause"}
                unread.append((graph.rows[n], f"{condition} → {text}" if condition else text))
            node.update(end)
            leads |= "plan" in end or "next" in end
        nodes[ident(n)] = node
    if not leads:
        return None
    unread += [(graph.rows[n], graph.texts[n]) for n in range(len(graph.texts)) if n not in read and graph.texts[n]]
    return Chart({"start": ident(graph.start()), "nodes": nodes}, sorted(set(unread)))
