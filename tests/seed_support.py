"""What the seed runbook tests share: load a bundled runbook, walk its flowchart, dry-run a plan."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from tui.runbook.loader import load
from tui.runbook.model import FlowNode, Runbook, Step

RUNBOOKS = Path(__file__).resolve().parent.parent / "runbooks"


def load_seed(name: str) -> Runbook:
    loaded = load(RUNBOOKS / name)
    assert loaded.ok, "\n".join(str(p) for p in loaded.problems)
    assert loaded.runbook is not None
    return loaded.runbook


def walk(runbook: Runbook, *answers: str) -> FlowNode:
    """Follow the flowchart from its start, taking at each question the one option whose label
    starts with the next answer; return the leaf (a plan or an action) it ends on."""
    assert runbook.flow is not None
    pending = list(answers)
    node_id = runbook.flow.start
    for _ in range(len(runbook.flow.nodes) + 1):
        node = runbook.flow.nodes[node_id]
        if node.plan is not None or node.action is not None:
            assert not pending, f"answers left over at {node_id!r}: {pending}"
            return node
        if node.next is not None:
            node_id = node.next
            continue
        assert pending, f"no answer for the question at {node_id!r}: {node.ask}"
        answer = pending.pop(0)
        chosen = [o for o in node.options if o.label.startswith(answer)]
        assert len(chosen) == 1, f"{answer!r} matches {len(chosen)} options at {node_id!r}"
        node_id = chosen[0].next
    raise AssertionError("the flowchart did not reach a leaf")


def actions(runbook: Runbook) -> Iterator[tuple[str, Step]]:
    """Every check, plan step, verification and drill step, with where it is."""
    for check in runbook.checks:
        yield f"checks.{check.id}", check
    for plan_id, plan in runbook.plans.items():
        for step in [*plan.steps, *plan.verify]:
            yield f"plans.{plan_id}.{step.id}", step
    for drill in runbook.drills:
        for step in [*drill.setup, *drill.teardown]:
            yield f"drills.{drill.id}.{step.id}", step


def dry_run(
    path: Path, home: Path, args: list[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``rbconsole ARGS --dry-run --yes`` against ``path``: nothing runs, nothing is reachable."""
    environ = {**os.environ, "RBCONSOLE_HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args[:1], str(path), *args[1:], "--dry-run", "--yes", "--operator", "tester"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
        check=False,
    )


def leaf(runbook: Runbook, *answers: str) -> tuple[str, str | None, str | None]:
    """The flowchart leaf the answers lead to, as (node id, plan, action)."""
    assert runbook.flow is not None
    node = walk(runbook, *answers)
    return next(k for k, v in runbook.flow.nodes.items() if v is node), node.plan, node.action
