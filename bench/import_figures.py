"""The figures of ``rbconsole import`` on a set of Markdown documents, one line each: the commands
found, how many became runnable steps, manual steps (and why), lost, whether the output validates,
and whether every plan dry-runs and drills headless.

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
    print(f"{'document':58} {'cmds':>5} {'run':>4} {'man':>4} {'lost':>4} {'ratio':>6}  valid  dry-run  drill")
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
            f"{source.name[:58]:58} {f['commands']:>5} {f['runnable']:>4} {f['manual']:>4} {f['lost']:>4} "
            f"{ratio:>6.0%}  {'yes' if loaded.ok else 'NO':5}  {dry:7}  {drill}"
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
