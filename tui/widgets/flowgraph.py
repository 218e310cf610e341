"""Lay out a runbook's decision flowchart as boxes and arrows on a character canvas, or as an
indented outline when the graph is wider than the screen.

Nodes go in layers by their shortest distance from the start, edges into the next layer are
drawn as lines with their option labels (each in full, wrapped) above the arrow; an edge back to
an earlier layer (or sideways) would cross everything, so it is written inside the box as
"↪ label: target". Widths are Rich cell widths so CJK text lines up.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text

from tui.runbook.model import Flow

BOX_TEXT_WIDTH = 22
GAP = 3

UP, DOWN, LEFT, RIGHT = 1, 2, 4, 8
_LINES = {
    UP | DOWN: "│",
    LEFT | RIGHT: "─",
    DOWN | RIGHT: "┌",
    DOWN | LEFT: "┐",
    UP | RIGHT: "└",
    UP | LEFT: "┘",
    UP | DOWN | RIGHT: "├",
    UP | DOWN | LEFT: "┤",
    LEFT | RIGHT | DOWN: "┬",
    LEFT | RIGHT | UP: "┴",
    UP | DOWN | LEFT | RIGHT: "┼",
    UP: "│",
    DOWN: "│",
    LEFT: "─",
    RIGHT: "─",
}


def wrap_cells(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` terminal cells, breaking at spaces where possible (CJK has none)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if cell_len(candidate) <= width:
                current = candidate
                continue
            if cell_len(word) <= width:
                lines.append(current)
                current = word
                continue
            # Longer than a line (CJK has no spaces): fill the current line, then break anywhere.
            current = f"{current} " if current else ""
            for char in word:
                if cell_len(current + char) > width:
                    lines.append(current)
                    current = ""
                current += char
        lines.append(current)
    return lines


class Canvas:
    """A grid of terminal cells; a wide character takes its cell and blanks the next one."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars: list[list[str]] = [[" "] * width for _ in range(height)]
        self.styles: list[list[str]] = [[""] * width for _ in range(height)]
        self.lines: dict[tuple[int, int], int] = {}
        self.line_styles: dict[tuple[int, int], str] = {}
        self.written: set[tuple[int, int]] = set()  # cells of text, spaces too: a line never shows through

    def text(self, x: int, y: int, text: str, style: str = "") -> None:
        for char in text:
            w = cell_len(char)
            if x + w > self.width:
                return
            self.chars[y][x] = char
            self.styles[y][x] = style
            self.written.add((x, y))
            if w == 2:
                self.chars[y][x + 1] = ""
            x += w

    def line(self, x: int, y: int, bits: int, style: str = "") -> None:
        self.lines[(x, y)] = self.lines.get((x, y), 0) | bits
        if style or (x, y) not in self.line_styles:
            self.line_styles[(x, y)] = style

    def hline(self, x0: int, x1: int, y: int, style: str = "") -> None:
        lo, hi = min(x0, x1), max(x0, x1)
        for x in range(lo, hi + 1):
            self.line(x, y, (LEFT if x > lo else 0) | (RIGHT if x < hi else 0), style)

    def render(self, styles: Mapping[str, Style]) -> list[Text]:
        for (x, y), bits in self.lines.items():
            if (x, y) in self.written or self.chars[y][x] != " ":
                continue  # a label or arrow written on the line wins
            self.chars[y][x] = _LINES.get(bits, " ")
            self.styles[y][x] = self.line_styles.get((x, y), "")
        rows = []
        for y in range(self.height):
            row = Text(no_wrap=True)
            for char, style in zip(self.chars[y], self.styles[y], strict=True):
                if char:
                    row.append(char, styles.get(style))
            rows.append(row)
        return rows


@dataclass
class Box:
    node: str
    lines: list[str]
    width: int
    layer: int
    x: int = 0
    y: int = 0
    incoming: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return len(self.lines) + 2

    @property
    def center(self) -> int:
        return self.x + self.width // 2


def _edges(flow: Flow, node_id: str) -> list[tuple[str, str]]:
    node = flow.nodes[node_id]
    if node.next:
        return [("", node.next)]
    return [(option.label, option.next) for option in node.options]


def _layers(flow: Flow) -> dict[str, int]:
    depth = {flow.start: 0}
    queue = deque([flow.start])
    while queue:
        current = queue.popleft()
        for _, target in _edges(flow, current):
            if target in flow.nodes and target not in depth:
                depth[target] = depth[current] + 1
                queue.append(target)
    return depth


def _node_lines(flow: Flow, node_id: str, depth: dict[str, int], plan_titles: Mapping[str, str]) -> list[str]:
    node = flow.nodes[node_id]
    lines = wrap_cells(node.text, BOX_TEXT_WIDTH)
    if node.ask:
        lines += wrap_cells(f"? {node.ask}", BOX_TEXT_WIDTH)
    if node.plan:
        title = plan_titles.get(node.plan, "")
        lines += wrap_cells(f"⇒ plan {node.plan}" + (f": {title}" if title else ""), BOX_TEXT_WIDTH)
    if node.action:
        lines += [f"⇒ {node.action}"]
    for label, target in _edges(flow, node_id):
        if target in depth and depth[target] != depth[node_id] + 1:
            target_text = flow.nodes[target].text
            lines += wrap_cells(f"↪ {label + ': ' if label else ''}{target_text}", BOX_TEXT_WIDTH)
    return lines


@dataclass(frozen=True)
class Marks:
    """What a drawing of the flowchart marks: the path walked so far (node ids in order), the
    node where it stands, each plan's title (on its leaf), and the Rich style of each role
    ("path", "path_label", "current", "label", "leaf")."""

    path: Sequence[str] = ()
    current: str | None = None
    plan_titles: Mapping[str, str] = field(default_factory=dict)
    styles: Mapping[str, Style] = field(default_factory=dict)

    @property
    def edges(self) -> set[tuple[str, str]]:
        """The (from, to) links the path took."""
        return set(pairwise(self.path))

    def node_style(self, flow: Flow, node_id: str) -> str:
        if node_id == self.current:
            return "current"
        if node_id in self.path:
            return "path"
        return "leaf" if flow.nodes[node_id].plan else ""


def draw_flow(
    flow: Flow, marks: Marks = Marks(), where: dict[str, tuple[int, int, int, int]] | None = None
) -> list[Text]:
    """The flowchart as rows of styled text; nodes and edges on the marked path use the "path"
    style. ``where``, if given, receives each node's box as (x, y, width, height) in cells."""
    path = marks.path
    on_path_edges = marks.edges
    depth = _layers(flow)
    layers: dict[int, list[str]] = {}
    for node_id, d in depth.items():
        layers.setdefault(d, []).append(node_id)
    boxes: dict[str, Box] = {}
    for node_id, d in depth.items():
        lines = _node_lines(flow, node_id, depth, marks.plan_titles)
        # A box is at least as wide as the labels above it want (up to a full box): they wrap in its room.
        labels = [label for p, pd in depth.items() if pd == d - 1 for label, t in _edges(flow, p) if t == node_id]
        wanted = min(max((cell_len(label) for label in labels), default=0), BOX_TEXT_WIDTH) + 4
        width = max(max(cell_len(line) for line in lines) + 4, wanted)
        boxes[node_id] = Box(node_id, lines, width, d)

    layer_widths = {d: sum(boxes[n].width for n in ids) + GAP * (len(ids) - 1) for d, ids in layers.items()}
    total_width = max(layer_widths.values()) + 2

    def into(d: int, parents: list[str]) -> dict[str, list[str]]:
        """The option labels on the edges from ``parents`` into layer d+1, per target, in order."""
        found: dict[str, list[str]] = {}
        for parent in parents:
            for label, target in _edges(flow, parent):
                if depth.get(target) == d + 1 and label and label not in found.setdefault(target, []):
                    found[target].append(label)
        return {t: names for t, names in found.items() if names}

    def label_lines(d: int, target: str, names: list[str]) -> list[str]:
        # Each label in full, wrapped to the room above its box (a lone box has the whole width).
        room = total_width - 2 if len(layers[d + 1]) == 1 else boxes[target].width + GAP - 2
        return [line for name in names for line in wrap_cells(name, max(room, 8))]

    # Rows between layer d and d+1: one bus row per parent with children below, the label rows, an arrow row.
    y = 0
    gaps: dict[int, list[str]] = {}
    labels: dict[int, dict[str, list[str]]] = {}
    for d in sorted(layers):
        # A lone box sits exactly on the axis so a straight edge into it has no jog.
        x = (
            (total_width // 2 - boxes[layers[d][0]].width // 2)
            if len(layers[d]) == 1
            else (total_width - layer_widths[d]) // 2
        )
        for node_id in layers[d]:
            box = boxes[node_id]
            box.x, box.y = x, y
            x += box.width + GAP
        y += max(boxes[n].height for n in layers[d])
        parents = [n for n in layers[d] if any(depth.get(t) == d + 1 for _, t in _edges(flow, n))]
        gaps[d] = parents
        labels[d] = {t: label_lines(d, t, names) for t, names in into(d, parents).items()}
        if parents:
            y += len(parents) + max((len(lines) for lines in labels[d].values()), default=0) + 1
    canvas = Canvas(total_width, max(y, 1))

    for d in sorted(layers):
        parents = gaps[d]
        if not parents:
            continue
        layer_bottom = boxes[layers[d][0]].y + max(boxes[n].height for n in layers[d])
        label_rows = max((len(lines) for lines in labels[d].values()), default=0)
        first_label_row = layer_bottom + len(parents)
        arrow_row = first_label_row + label_rows
        for i, parent in enumerate(parents):
            source = boxes[parent]
            bus = layer_bottom + i
            targets = [(label, t) for label, t in _edges(flow, parent) if depth.get(t) == d + 1]
            any_on_path = any((parent, t) in on_path_edges for _, t in targets)
            for yy in range(source.y + source.height, bus):
                canvas.line(source.center, yy, UP | DOWN, "path" if any_on_path else "")
            canvas.line(source.center, bus, UP, "path" if any_on_path else "")
            for _, target in targets:
                style = "path" if (parent, target) in on_path_edges else ""
                cx = boxes[target].center
                canvas.hline(source.center, cx, bus, style)
                canvas.line(cx, bus, DOWN, style)
                for yy in range(bus + 1, arrow_row + 1):
                    canvas.line(cx, yy, UP | DOWN, style)
        for target, lines in labels[d].items():
            box = boxes[target]
            style = "path_label" if any((p, target) in on_path_edges for p in parents) else "label"
            for row, text in enumerate(lines):
                start = min(max(0, box.center - cell_len(text) // 2), max(0, total_width - cell_len(text)))
                canvas.text(start, first_label_row + row, text, style)
        for target in {t for p in parents for _, t in _edges(flow, p) if depth.get(t) == d + 1}:
            box = boxes[target]
            on_path = target in path
            canvas.text(box.center, arrow_row, "▼", "path" if on_path else "")

    drawn_sources = {p for parents in gaps.values() for p in parents}
    for node_id, box in boxes.items():
        style = marks.node_style(flow, node_id)
        inner = box.width - 2
        canvas.text(box.x, box.y, "┌" + "─" * inner + "┐", style)
        for i, line in enumerate(box.lines):
            pad = inner - 2 - cell_len(line)
            canvas.text(box.x, box.y + 1 + i, "│ " + line + " " * pad + " │", style)
        bottom = "└" + "─" * inner + "┘"
        if node_id in drawn_sources:
            cut = box.width // 2
            bottom = bottom[:cut] + "┬" + bottom[cut + 1 :]
        canvas.text(box.x, box.y + box.height - 1, bottom, style)
    if where is not None:
        where.update({node_id: (b.x, b.y, b.width, b.height) for node_id, b in boxes.items()})
    return canvas.render(marks.styles)


def outline_flow(
    flow: Flow, width: int, marks: Marks = Marks(), where: dict[str, tuple[int, int, int, int]] | None = None
) -> list[Text]:
    """The flowchart as an indented tree that fits ``width`` cells: each node's text, its question,
    every option label in full with the node it leads to indented below it. A node reached a second
    time (several options into one node, a loop back) is named, not repeated ("→ … (above)").
    ``where``, if given, receives each node's first row and row count as (0, y, width, height)."""
    on_path_edges = marks.edges
    titles, styles = marks.plan_titles, marks.styles
    rows: list[Text] = []
    shown: set[str] = set()

    def emit(first: str, rest: str, text: str, style: str, lead_style: str = "") -> None:
        room = max(width - max(cell_len(first), cell_len(rest)), 8)
        for i, line in enumerate(wrap_cells(text, room)):
            row = Text(no_wrap=True)
            row.append(first if i == 0 else rest, styles.get(lead_style))
            row.append(line, styles.get(style))
            rows.append(row)

    def chain(node_id: str, indent: str) -> None:
        for _ in range(len(flow.nodes) + 1):  # a chain of `next` links; the loader rejects endless ones
            node = flow.nodes.get(node_id)
            if node is None:
                return
            if node_id in shown:
                emit(indent + "→ ", indent + "  ", f"{node.text} (above)", marks.node_style(flow, node_id))
                return
            shown.add(node_id)
            top = len(rows)
            style = marks.node_style(flow, node_id)
            emit(indent + "● ", indent + "  ", node.text, style)
            if node.plan:
                title = titles.get(node.plan, "")
                emit(indent + "  ", indent + "  ", f"⇒ plan {node.plan}" + (f": {title}" if title else ""), "leaf")
            if node.action:
                emit(indent + "  ", indent + "  ", f"⇒ {node.action}", "leaf")
            if node.ask:
                emit(indent + "  ", indent + "  ", f"? {node.ask}", style)
            if where is not None:
                where[node_id] = (0, top, width, len(rows) - top)
            if node.options:
                for i, option in enumerate(node.options):
                    last = i == len(node.options) - 1
                    taken = (node_id, option.next) in on_path_edges
                    branch, cont = ("└─ ", "   ") if last else ("├─ ", "│  ")
                    label_style = "path_label" if taken else "label"
                    emit(
                        indent + "  " + branch, indent + "  " + cont, option.label, label_style, "path" if taken else ""
                    )
                    chain(option.next, indent + "  " + cont)
                return
            if not node.next:
                return
            rows.append(Text(indent + "↓", styles.get("path" if (node_id, node.next) in on_path_edges else "")))
            node_id = node.next

    chain(flow.start, "")
    return rows
