"""Every bundled runbook drills in dry-run with no hosts, no database and no input at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RUNBOOKS
from tests.test_drill_demo import journals, rbconsole
from tui.drill.scenario import choose
from tui.runbook.loader import load_or_raise

SEEDS = sorted(p for p in RUNBOOKS.glob("*.toml") if p.name != "demo.toml")


def test_there_are_seed_runbooks() -> None:
    assert len(SEEDS) >= 4, [p.name for p in SEEDS]


@pytest.mark.parametrize("path", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_drills_in_dry_run(path: Path, tmp_path: Path) -> None:
    record = tmp_path / "drill.md"
    done = rbconsole("drill", str(path), "--headless", "--dry-run", "--yes", "--record", str(record))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "Traceback" not in done.stderr

    runbook = load_or_raise(path)
    choice = choose(runbook)
    [events] = journals()
    start = events[0].data
    assert (start["mode"], start["dry_run"], start["plan"]) == ("drill", True, choice.plan)
    assert start["scenario"] == choice.scenario_id
    ran = {(e.data["phase"], e.data["id"]) for e in events if e.type in ("step_finished", "check_finished")}
    assert {("step", s.id) for s in runbook.plans[choice.plan].steps} <= ran, "every step of the plan was walked"
    statuses = {e.data["status"] for e in events if e.type == "step_finished" and e.data["phase"] == "step"}
    assert statuses == {"dry_run"}, "a dry run executes nothing"

    text = record.read_text(encoding="utf-8")
    assert "## DRILL report" in text and "**Dry run**" in text
    report = text.split("## DRILL report", 1)[1]
    assert "walked (dry run)" in report and " passed." not in report, "a dry run claims nothing passed"
