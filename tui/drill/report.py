"""The drill report in Markdown: time against target, steps, checks, checklists, drift and trend.

Drift is what the session journaled (the baselines with the plan choice, each step's drift with
its end), never measured again from the history: the report says what the plan screen, the
printer and the record said. The history gives the trend only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from tui.drill.format import against_target, percent, sparkline
from tui.drill.summary import CheckResult, DrillRun, StepTime
from tui.engine.events import STATUS_WORDS
from tui.engine.results import label as result_label
from tui.runbook.durations import format_duration

CHECKLISTS = ("pre", "during", "post", "followup")


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or "—"


def _label(item_id: str, title: str) -> str:
    return f"`{_cell(item_id)}` {_cell(title)}" if title.strip() else f"`{_cell(item_id)}`"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "—"


def render_report(run: DrillRun, earlier: Sequence[DrillRun] = ()) -> str:
    """The report of ``run``; ``earlier`` are previous drills of the same runbook and plan, oldest first."""
    out = [f"## DRILL report: {run.runbook_title or run.runbook_id}, plan {run.plan} {run.plan_title}".rstrip(), ""]
    out.append(
        "> **DRILL** — a rehearsal, not a live rollback."
        + (" **Dry run**: nothing was executed; times are not drill times." if run.dry_run else "")
    )
    out.append("")
    out += ["| | |", "|---|---|"]
    out.append(f"| Time against target | {_cell(against_target(run.seconds, run.target_minutes, run.result))} |")
    out.append(f"| Result | {_cell(result_label(run.result))} |")
    out.append(f"| Scenario | {_cell(run.scenario or 'none (plan only)')} |")
    out.append(f"| Profile | {_cell(run.profile or 'default')} |")
    out.append(f"| Operator | {_cell(run.operator)} |")
    out.append(f"| Started | {_when(run.started)} |")
    out.append(f"| Whole session | {format_duration(run.session_seconds)} (setup and teardown included) |")
    out.append(f"| Session | `{run.session}` |")
    if run.yes:
        out.append("| Confirmations | answered by `--yes` |")
    out.append("")
    out += _steps_section(run)
    out += _problems_section(run)
    out += _checks_section("Pre-checks", run.checks, run.dry_run)
    out += _checks_section("Verification", run.verify, run.dry_run)
    out += _checklist_section(run)
    out += _scenario_section(run)
    out += _targets_section(run)
    out += _drift_section(run)
    out += _trend_section(run, earlier)
    return "\n".join(out).rstrip() + "\n"


def _steps_section(run: DrillRun) -> list[str]:
    known = run.baselines or {}
    out = [
        "### Steps",
        "",
        "| # | step | kind | time | baseline | drift | status | attempts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for position, step in enumerate(run.steps, start=1):
        base = known.get(step.id)
        ratio = ""
        if step.flagged:
            ratio = _ratio(step.drift or {})
        elif step.drift is not None:
            ratio = "≈"  # within bounds: a ratio of two tiny times would only be noise
        baseline = format_duration(float(base.get("seconds") or 0.0)) if isinstance(base, dict) else "—"
        out.append(
            f"| {position} | {_label(step.id, step.title)} | {_cell(step.kind)} "
            f"| {format_duration(step.seconds) if step.attempts else '—'} "
            f"| {baseline} | {_cell(ratio)} | {_cell(step.status)} | {step.attempts} |"
        )
    return [*out, ""]


def _ratio(drift: dict[str, object]) -> str:
    """``**3.1x**`` as journaled; a step against a baseline of no measurable time has no ratio."""
    ratio = drift.get("ratio")
    return f"**{ratio:.1f}x**" if isinstance(ratio, int | float) else "**∞x**"


def _problems_section(run: DrillRun) -> list[str]:
    skipped = [s for s in run.steps if s.status == "skipped"]
    failed = [s for s in run.steps if s.attempts and not s.ok]
    not_run = [s for s in run.steps if not s.attempts and s.status != "skipped"]
    out = ["### Skipped or failed", ""]
    for step in skipped:
        out.append(f"- skipped: `{step.id}`" + (f" ({step.skip_reason})" if step.skip_reason else ""))
    for step in failed:
        words = STATUS_WORDS.get(step.status, step.status)
        out.append(f"- {words}: `{step.id}`" + (f": {step.detail}" if step.detail else ""))
    for step in not_run:
        out.append(f"- not run: `{step.id}`")
    if len(out) == 2:
        out.append("None: every step was walked (dry run)." if run.dry_run else "None: every step ran and passed.")
    return [*out, ""]


def _checks_section(title: str, checks: list[CheckResult], dry_run: bool) -> list[str]:
    out = [f"### {title}", ""]
    if not checks:
        return [*out, "None ran.", ""]
    passed = sum(c.status in ("ok", "dry_run") for c in checks)
    verb = "walked (dry run)" if dry_run else "passed"
    out += [f"{passed} of {len(checks)} {verb}.", "", "| check | status | severity | detail |", "|---|---|---|---|"]
    for c in checks:
        status = c.status + (f" (overridden: {c.overridden})" if c.overridden else "")
        out.append(f"| {_label(c.id, c.title)} | {_cell(status)} | {c.severity} | {_cell(c.detail)} |")
    return [*out, ""]


def _checklist_section(run: DrillRun) -> list[str]:
    out = ["### Checklists", ""]
    total = ticked = 0
    missing: list[str] = []
    for name in CHECKLISTS:
        items = run.checklist_items.get(name, [])
        if not items:
            continue
        done = set(run.checklist_ticked.get(name, [])) & set(range(len(items)))
        total += len(items)
        ticked += len(done)
        out.append(f"- {name}: {len(done)} of {len(items)}")
        missing += [f"{name}: {text}" for i, text in enumerate(items) if i not in done]
    if not total:
        return [*out, "The runbook has no checklists.", ""]
    out[2:2] = [f"Completion: {ticked} of {total} items ({ticked / total * 100:.0f}%).", ""]
    if missing:
        out += ["", "Not ticked:", *(f"- [ ] {_cell(m)}" for m in missing)]
    return [*out, ""]


def _scenario_section(run: DrillRun) -> list[str]:
    if not run.setup and not run.teardown:
        return []
    out = ["### Scenario setup and teardown", ""]
    for label, steps in (("setup", run.setup), ("teardown", run.teardown)):
        for step in steps:
            out.append(f"- {label} `{step.id}`: {step.status}, {format_duration(step.seconds)}" + _detail(step))
    return [*out, ""]


def _targets_section(run: DrillRun) -> list[str]:
    if not run.targets:
        return []
    shared = list(run.targets.get("shared") or [])
    production = list(run.targets.get("production") or [])
    out = ["### Targets", ""]
    out.append(f"- {run.targets.get('fenced', 0)} fenced in (the profile's or the operator's own)")
    out.append(f"- {len(shared)} shared with production on purpose" + (":" if shared else ""))
    out += [f"  - {_cell(line)}" for line in shared]
    if production:
        out.append(f"- {len(production)} from the production values (a dry run walked past them):")
        out += [f"  - {_cell(line)}" for line in production]
    return [*out, ""]


def _detail(step: StepTime) -> str:
    return f" ({step.detail})" if step.detail and not step.ok else ""


def _drift_section(run: DrillRun) -> list[str]:
    out = ["### Drift against earlier drills", ""]
    if run.baselines is None:
        why = "a dry run runs nothing to time" if run.dry_run else "the session journaled no baselines"
        return [*out, f"Not compared: {why}.", ""]
    if not run.baselines:
        return [*out, "No earlier drill of this plan: this one becomes the baseline.", ""]
    flagged = [step for step in run.steps if step.flagged]
    if not flagged:
        return [*out, "Every step within its drill time.", ""]
    return [*out, *(f"- {(step.drift or {}).get('text')}" for step in flagged), ""]


def _trend_section(run: DrillRun, earlier: Sequence[DrillRun]) -> list[str]:
    out = ["### Trend", ""]
    if not earlier:
        return [*out, "First recorded drill of this runbook and plan.", ""]
    runs = [*earlier, run]
    out.append(f"Total time over the last {len(runs)} drills: `{sparkline([r.seconds for r in runs])}` (oldest first)")
    previous = earlier[-1]
    delta = run.seconds - previous.seconds
    word = "slower" if delta > 0 else "faster"
    out += [
        "",
        f"This drill: {format_duration(abs(delta))} {word} than the previous one ({_when(previous.started)}).",
        "",
    ]
    out += ["| drill | started | time | vs target | result |", "|---|---|---|---|---|"]
    for r in runs[-10:]:
        mark = "this one" if r is run else f"`{r.session.rsplit('-', 1)[-1]}`"
        share = percent(r.seconds / (r.target_minutes * 60)) if r.target_minutes else "—"
        out.append(f"| {mark} | {_when(r.started)} | {format_duration(r.seconds)} | {share} | {_cell(r.result)} |")
    return [*out, ""]
