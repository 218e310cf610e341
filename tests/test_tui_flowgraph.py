"""The flowchart layout: boxes and arrows on a grid of terminal cells, CJK aligned, path styled."""

from __future__ import annotations

import re
from pathlib import Path

from rich.cells import cell_len
from rich.style import Style

from tui.runbook.loader import load_or_raise
from tui.runbook.model import Flow
from tui.widgets.flowgraph import Marks, draw_flow, wrap_cells

FLOW = Flow.model_validate(
    {
        "start": "found",
        "nodes": {
            "found": {"text": "发现问题", "next": "assess"},
            "assess": {
                "text": "评估影响",
                "ask": "影响范围有多大？",
                "options": [
                    {"label": "整个系统", "next": "full"},
                    {"label": "部分功能", "next": "partial"},
                    {"label": "再看一次", "next": "found"},
                ],
            },
            "full": {"text": "完整回滚", "plan": "A"},
            "partial": {"text": "渐进式回滚", "plan": "B"},
        },
    }
)
PATH_STYLE = Style(color="yellow", bold=True)


def test_every_row_has_the_same_cell_width_with_cjk_text() -> None:
    rows = draw_flow(FLOW)
    widths = {row.cell_len for row in rows}
    assert len(widths) == 1
    plain = [row.plain for row in rows]
    boxes = [line for line in plain if "│ 完整回滚" in line]
    assert boxes and "│ 渐进式回滚" in boxes[0]  # leaves side by side on one layer


def test_boxes_arrows_labels_and_a_loop_back() -> None:
    plain = "\n".join(row.plain for row in draw_flow(FLOW, Marks(plan_titles={"A": "整体", "B": "部分"})))
    assert plain.count("┌") >= 4 and plain.count("▼") == 3  # found→assess, assess→full, assess→partial
    assert "整个系统" in plain and "部分功能" in plain  # option labels above their arrows
    assert "↪ 再看一次: 发现问题" in plain  # an edge back up is written in the box, not drawn across
    assert "⇒ plan A: 整体" in plain


def test_the_path_taken_is_styled() -> None:
    rows = draw_flow(FLOW, Marks(path=["found", "assess", "full"], current="full", styles={"path": PATH_STYLE}))
    styled = {span.style for row in rows for span in row.spans}
    assert PATH_STYLE in styled
    on_path = next(row for row in rows if "完整回滚" in row.plain)
    off_path = next(row for row in rows if "渐进式回滚" in row.plain)
    assert on_path.plain.index("完整回滚") < off_path.plain.index("渐进式回滚")
    # the box that is not on the path is not painted with the path style
    column = off_path.plain.index("渐进式回滚")
    assert all(span.style != PATH_STYLE for span in off_path.spans if span.start <= column < span.end)


def test_wrap_breaks_cjk_anywhere_and_latin_at_spaces() -> None:
    assert wrap_cells("Roll back the code", 10) == ["Roll back", "the code"]
    lines = wrap_cells("? 问题符合哪一级触发条件？", 22)
    assert lines[0].startswith("? 问题") and all(cell_len(line) <= 22 for line in lines)


def test_a_line_never_shows_through_the_spaces_of_a_label() -> None:
    # demo.toml's P0 label, centred over its arrow, has a space where the line comes down.
    runbook = load_or_raise(Path(__file__).parent.parent / "runbooks" / "demo.toml")
    assert runbook.flow is not None
    plain = [row.plain for row in draw_flow(runbook.flow)]
    label_row = next(line for line in plain if "P0:" in line)
    assert "P0: error rate above" in label_row
    assert not re.search(r"\w│\w", label_row)
