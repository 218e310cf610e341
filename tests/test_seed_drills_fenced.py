"""Every bundled runbook's drill stays inside its profile: the fence finds no production target.

The credit and partytix staging drills read (and bluegreen checked out) the production rollback's
git working tree on the bastion until their staging profiles named the drill's own clone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.engine import fence
from tui.engine.values import resolve
from tui.runbook.loader import load_or_raise
from tui.runbook.profiles import with_profile
from tui.runbook.uses import secrets_needed

RUNBOOKS = Path(__file__).parent.parent / "runbooks"
DRILLS = [
    (path, drill.id)
    for path in sorted(RUNBOOKS.glob("*.toml"))
    for drill in load_or_raise(path).drills
    if drill.profile is not None
]


def required_values(raw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A value for each required param with no default (what the operator gives at the start)."""
    given = {}
    for name, param in raw.params.items():
        if param.required and param.default is None:
            given[name] = "20260101" if param.pattern else "v1.0.0"
    return given


@pytest.mark.parametrize(("path", "drill_id"), DRILLS, ids=[f"{p.stem}:{d}" for p, d in DRILLS])
def test_the_drill_reaches_no_production_target(path: Path, drill_id: str, rbconsole_home: Path) -> None:
    raw = load_or_raise(path)
    drill = next(d for d in raw.drills if d.id == drill_id)
    runbook = with_profile(raw, drill.profile)
    needed = secrets_needed(runbook, plan=drill.plan, scenario=drill.id, profile=drill.profile)
    values = resolve(runbook, required_values(raw), builtins={}, profile=drill.profile, dry_run=True, needed=needed)
    found = fence.targets(
        runbook, raw, str(path), values, {}, profile=drill.profile, plan=drill.plan, scenario=drill.id
    )
    summary = fence.summary(found)
    assert summary["production"] == []
    assert summary["fenced"] > 0  # it did look: every seed drill acts on something


def test_every_seed_runbook_has_a_fenced_drill() -> None:
    assert {p.stem for p, _ in DRILLS} >= {
        "credit-db-rollback",
        "meiyueart-deploy",
        "partytix-risk",
        "shop-rollback",
        "wechat-backend-phase1",
    }
