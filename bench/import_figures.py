"""The figures of ``rbconsole import`` on a set of Markdown documents, one line each: the commands
found, how many became runnable steps, manual steps (and why), lost, whether the output validates,
whether every plan dry-runs and drills headless, how many vars the literals became and how often
the runbook reads them, and where the flowchart came from (``drawn``: the document's own chart or
decision tree; ``made``: from its alternatives and levels) with its questions and what of the
drawing did not read.

    python bench/import_figures.py tests/data/seeds/*.md tests/data/import/*.md [DIR/*.md ...]

Imports run in this process (one CLI process per document would cost more than the imports);
the dry runs and drills go through ``rbconsole run --dry-run`` and ``rbconsole drill --headless
--dry-run``, one process per plan, with sessions under a throw-away ``RBCONSOLE_HOME``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui.importer.build import build, finish
from tui.runbook.loader import load_text

GOAL_RUNNABLE = 0.90  # the goal: at least 90% of the commands become runnable steps, none lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", nargs="+", type=Path)
    parser.add_argument("--no-run", action="store_true", help="skip the dry runs and drills")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="rbconsole-import-figures-")
    env = {**os.environ, "RBCONSOLE_HOME": home}
    print(
        f"{'document':40} {'cmds':>5} {'run':>4} {'man':>4} {'lost':>4} {'ratio':>6}  valid  dry-run   drill     "
        "vars  flow"
    )
    failed = False
    for source in args.documents:
        imported = build(source.read_text(encoding="utf-8"), source.name)
        runbook = finish(imported.runbook)
        text = tomli_w.dumps(runbook, multiline_strings=True)
        loaded = load_text(text, source.name)
        f = imported.coverage.figures()
        ratio = f["runnable"] / f["commands"] if f["commands"] else 1.0
        dry = drill = "-"
        if loaded.ok and not args.no_run:
            with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False, encoding="utf-8") as out:
                out.write(text)
            dry = _all(["run", out.name, "--dry-run", "--yes", "--var", "reason=figures"], runbook, env)
            drill = _all(["drill", out.name, "--headless", "--dry-run", "--yes", "--reason", "figures"], runbook, env)
            Path(out.name).unlink()
        print(
            f"{source.name[:40]:40} {f['commands']:>5} {f['runnable']:>4} {f['manual']:>4} {f['lost']:>4} "
            f"{ratio:>6.0%}  {'yes' if loaded.ok else 'NO':5}  {dry:8}  {drill:8}  {_vars(runbook):8}  "
            f"{_flow(runbook, len(imported.coverage.chart_unread))}"
        )
        why: dict[str, int] = {}
        for what, reason in imported.coverage.outcomes.values():
            if what == "manual":
                why[reason] = why.get(reason, 0) + 1
        for reason, n in sorted(why.items()):
            print(f"{'':8}manual: {reason}: {n}")
        failed |= not loaded.ok or f["lost"] > 0 or "NO" in (dry, drill)
    print(f"goal: every output validates, nothing lost, runnable >= {GOAL_RUNNABLE:.0%} (ratio = runnable / commands)")
    return 1 if failed else 0


def _vars(runbook: dict[str, Any]) -> str:
    """The vars made and how many times the steps and checks read them (or a stated version)."""
    names = [*runbook.get("vars", {}), "target_version", "current_version"]
    actions = [
        *runbook.get("checks", []),
        *(a for p in runbook["plans"].values() for a in (*p["steps"], *p.get("verify", []))),
    ]
    uses = sum(str(a).count("{{ " + name + " }}") for a in actions for name in names)
    return f"{len(runbook.get('vars', {}))}/{uses}"


def _flow(runbook: dict[str, Any], unread: int) -> str:
    nodes = runbook.get("flow", {}).get("nodes", {})
    drawn = any(key.startswith("chart-") for key in nodes)
    asks = sum(1 for node in nodes.values() if "ask" in node)
    return f"{'drawn' if drawn else 'made'} {asks}q" + (f" ({unread} unread)" if unread else "")


def _all(command: list[str], runbook: dict[str, object], env: dict[str, str]) -> str:
    """``ok n/n`` when the command succeeds for every plan, else the plans it failed on."""
    plans = list(runbook["plans"])  # type: ignore[call-overload]
    bad = []
    for plan in plans:
        out = subprocess.run(
            [sys.executable, "-m", "tui", *command, "--plan", plan],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        if out.returncode != 0:
            bad.append(plan)
    return f"ok {len(plans)}/{len(plans)}" if not bad else "NO " + ",".join(bad)


if __name__ == "__main__":
    raise SystemExit(main())
