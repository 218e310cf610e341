"""How the record reads (its head and its result) for a dry run, an aborted run, an interrupted
run and an export taken while the session runs: SVGs under snapshots/test_truth_record_snapshots/.

Each record comes from a real session of tests/data/truth/truth.toml; ids, times and numbers are masked
so the pictures only change when what the record says changes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Markdown

from tui.engine.journal import JOURNAL_NAME, read_events
from tui.engine.session import Session, StartOptions
from tui.record import render_markdown
from tui.runbook.loader import load

TRUTH = Path(__file__).parent / "data" / "truth" / "truth.toml"


class RecordView(App[None]):
    """The parts of a record that say what happened: its head (mode, times, versions) and result."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield Markdown(self.text)


def excerpt(text: str, session_id: str, tmp_path: Path) -> str:
    head = text.split("## 回滚原因 · Reason")[0]
    result = "## 回滚结果 · Result" + text.split("## 回滚结果 · Result")[1].split("## 时间线")[0]
    shown = head + result
    for name in (session_id, str(tmp_path)):
        shown = shown.replace(name, "X")
    return re.sub(r"\d+(\.\d+)?", "0", shown)


def session(tmp_path: Path, **options: object) -> Session:
    loaded = load(TRUTH)
    assert loaded.runbook is not None
    values = {"dir": str(tmp_path), "lines": "100000" if options.pop("long", False) else "1"}
    start = StartOptions(values=values, yes=True, operator="ana", reason="ledger drift", **options)  # type: ignore[arg-type]
    return Session.start(loaded.runbook, str(TRUTH), start)


def dry_run(tmp_path: Path) -> str:
    s = session(tmp_path, dry_run=True)

    async def walk() -> None:
        await s.choose_plan("A")
        await s.run_checks()
        await s.run_plan()
        await s.verify()
        await s.end()
        await s.close()

    asyncio.run(walk())
    return excerpt(render_markdown(s.events), s.id, tmp_path)


def aborted(tmp_path: Path) -> str:
    s = session(tmp_path, long=True)

    async def walk() -> None:
        await s.choose_plan("A")
        await s.run_checks()
        run = asyncio.ensure_future(s.run_plan())
        for _ in range(200):
            await asyncio.sleep(0.05)
            if s.state.action("step", "stream"):
                break
        s.abort("the operator stopped it")
        await asyncio.wait_for(run, 30)
        await s.end()
        await s.close()

    asyncio.run(walk())
    return excerpt(render_markdown(s.events), s.id, tmp_path)


def interrupted_and_in_progress(tmp_path: Path) -> tuple[str, str]:
    s = session(tmp_path, long=True)

    async def walk() -> None:
        await s.choose_plan("A")
        await s.run_checks()
        await s.run_step("announce")
        await s.run_step("wipe")

    asyncio.run(walk())
    running = excerpt(render_markdown(s.events, live=True), s.id, tmp_path)
    asyncio.run(s.close())  # nobody holds it now: an interrupted session, as after a kill
    events = read_events(s.dir / JOURNAL_NAME)
    return excerpt(render_markdown(events), s.id, tmp_path), running


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("records")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RBCONSOLE_HOME", str(root / "home"))
        for name in "ida":
            (root / name).mkdir()
        interrupted, running = interrupted_and_in_progress(root / "i")
        out = {"dry_run": dry_run(root / "d"), "aborted": aborted(root / "a")}
    return out | {"interrupted": interrupted, "in_progress": running}


@pytest.mark.parametrize("case", ["dry_run", "aborted", "interrupted", "in_progress"])
def test_record(case: str, records: dict[str, str], snap_compare) -> None:
    assert snap_compare(RecordView(records[case]), terminal_size=(120, 40))
