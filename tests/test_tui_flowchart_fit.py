"""The flowchart is readable at every size: labels in full, several edges into one node all shown,
an outline where the graph would not fit, the start (or the asked node) on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.tui_helpers import make_app, screen_lines, settle
from tui.runbook.loader import load_or_raise
from tui.runbook.model import Flow
from tui.widgets.flowchart import FlowChart
from tui.widgets.flowgraph import draw_flow, outline_flow

RUNBOOKS = sorted((Path(__file__).parent.parent / "runbooks").glob("*.toml"))
LONG = "the error rate is above five percent on every region and the payment provider reports timeouts"
FLOW = Flow.model_validate(
    {
        "start": "ask",
        "nodes": {
            "ask": {
                "text": "what broke?",
                "ask": "which symptom?",
                "options": [
                    {"label": LONG, "next": "roll"},
                    {"label": "验证测试失败 - 自动化验证脚本测试失败", "next": "roll"},
                    {"label": "cosmetic", "next": "watch"},
                ],
            },
            "roll": {"text": "roll back", "plan": "A"},
            "watch": {"text": "watch it", "action": "observe"},
        },
    }
)


def _flat(rows: list[str]) -> str:
    """The text with line breaks and the drawing between words removed (a wrapped label reads whole)."""
    return "".join(ch for row in rows for ch in row if ch not in " │┌┐└┘─┬┴├┤┼▼")


def _in_order(needle: str, haystack: str) -> bool:
    """Every character of ``needle`` in ``haystack``, in order (labels side by side interleave)."""
    found = iter(haystack)
    return all(char in found for char in needle)


def test_every_label_into_one_node_is_drawn_in_full() -> None:
    plain = [row.plain for row in draw_flow(FLOW)]
    assert "…" not in "".join(plain)
    assert all(word in "".join(plain) for word in LONG.split())
    assert _in_order(_flat([LONG]), _flat(plain))
    assert _in_order("验证测试失败-自动化验证脚本测试失败", _flat(plain))


def test_meiyueart_shows_all_five_occasions_into_the_confirm_node() -> None:
    runbook = load_or_raise(RUNBOOKS[0].parent / "meiyueart-deploy.toml")
    assert runbook.flow is not None
    flat = _flat([row.plain for row in draw_flow(runbook.flow)])
    for option in runbook.flow.nodes["assess"].options:
        assert _flat([option.label]) in flat


@pytest.mark.parametrize("path", RUNBOOKS, ids=[p.stem for p in RUNBOOKS])
@pytest.mark.parametrize("width", [40, 78])
def test_the_outline_fits_the_width_and_says_everything(path: Path, width: int) -> None:
    runbook = load_or_raise(path)
    assert runbook.flow is not None, f"{path.name}: every bundled runbook has a flowchart"
    rows = [row.plain for row in outline_flow(runbook.flow, width)]
    assert all(cell_len(row) <= width for row in rows)
    flat = _flat(rows)
    for node in runbook.flow.nodes.values():
        assert _flat([node.text]) in flat
        for option in node.options:
            assert _flat([option.label]) in flat


def test_a_node_reached_twice_is_named_not_repeated() -> None:
    rows = [row.plain for row in outline_flow(FLOW, 60)]
    assert sum("● roll back" in row for row in rows) == 1
    assert sum("→ roll back (above)" in row for row in rows) == 1


@pytest.mark.parametrize("path", RUNBOOKS, ids=[p.stem for p in RUNBOOKS])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_overview_shows_the_start_node_without_scrolling_sideways(
    path: Path, size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RBCONSOLE_HOME", str(tmp_path))
    runbook = load_or_raise(path)
    app = make_app(path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert runbook.title in text
        if runbook.flow is not None:
            start = runbook.flow.nodes[runbook.flow.start].text
            assert _flat([start])[:12] in _flat(screen_lines(app)), text
            chart = app.screen.query_one(FlowChart)
            # the graph only where it fits; t toggles
            assert (chart.shown_as() == "graph") == (chart.graph_width <= chart.room)
            before = chart.shown_as()
            await pilot.press("t")
            await pilot.pause()
            assert chart.shown_as() != before
            assert _flat([start])[:12] in _flat(screen_lines(app)), "\n".join(screen_lines(app))


async def test_triage_keeps_the_asked_node_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RBCONSOLE_HOME", str(tmp_path))
    path = RUNBOOKS[0].parent / "partytix-risk.toml"
    for name in ("PARTYTIX_OLD_SUPABASE_SERVICE_ROLE_KEY", "PARTYTIX_OLD_JWT_SECRET", "PARTYTIX_OLD_STRIPE_SECRET_KEY"):
        monkeypatch.setenv(name, "x-secret-value")
    monkeypatch.setenv("PARTYTIX_OLD_STRIPE_WEBHOOK_SECRET", "x-secret-value")
    monkeypatch.setenv("PARTYTIX_SMOKE_PASSWORD", "x-secret-value")
    app = make_app(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"db down", "ctrl+s")
        await settle(app, pilot)
        await pilot.press("enter")  # 高风险
        await settle(app, pilot)
        rows = screen_lines(app)
        assert "是哪一项已登记的风险？" in _flat(rows[:-9])  # in the chart, above the question panel
        await pilot.press("t")  # the graph: still the asked node in view
        await pilot.pause()
        await pilot.pause()
        assert "高风险项目" in _flat(screen_lines(app)[:-9])
