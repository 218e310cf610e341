"""The plan: steps beside the running step's live output, per-host tabs, run / skip / retry / abort."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Input, Static, Tab, Tabs

from screens.base import SessionScreen
from screens.status import duration_text, resolved_target, status_text, target_of
from tui.engine.events import OUTPUT, STEP_FINISHED, STEP_STARTED, Event
from tui.runbook.hosts import fan_out
from tui.runbook.kinds import step_kind
from tui.runbook.model import SshAction, Step
from tui.widgets.columns import FitTable, cell_width
from tui.widgets.output_pane import OutputPane
from tui.widgets.stopwatch import Stopwatch

ALL = "all"
WIDE = 110  # the app's -wide breakpoint: steps and output side by side


class PlanScreen(SessionScreen):
    WHERE = "Plan"
    AUTO_FOCUS = "#steps"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the steps table's own (hidden) enter would otherwise hide this one from the
        # footer; check_action lets enter through to the output search box.
        Binding("enter", "run", "Run step", priority=True, id="plan.run"),
        # Short descriptions fit the footer at 80 columns; the palette and help show the tooltip.
        Binding("g", "run_all", "Run rest", tooltip="Run the rest", id="plan.run_all"),
        Binding("r", "retry", "Retry", id="plan.retry"),
        Binding("s", "skip", "Skip", id="plan.skip"),
        Binding("a", "abort", "Abort", id="plan.abort"),
        Binding("v", "verify", "Verify", id="plan.verify"),
        Binding("slash", "search", "Search", key_display="/", tooltip="Search output", id="plan.search"),
        Binding("o", "output_file", "Output file", show=False, id="plan.output"),
        Binding("tab", "focus_next", "Next pane", show=False, id="plan.next"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []
        self.heard: set[str] = set()  # hosts whose output has started (their tab shows ▶)
        self.latest_host = ""
        self.running: str | None = None
        self.rows: list[tuple[str, Step]] = []
        self.drifted: set[str] = set()
        self.passed_in_batch = False
        self.steps_share: int | None = None  # wide: the steps table's share of the width, in percent

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        with Horizontal(id="plan-head"):
            yield Static(id="plan-title")
            yield Stopwatch(self.console.clock, self.target_minutes(), id="plan-stopwatch")
        with Horizontal(id="plan-body"):
            yield FitTable({"step": 0.65, "where": 0.35}, id="steps", cursor_type="row")
            with Vertical(id="plan-output"):
                yield Tabs(Tab(ALL, id=f"tab-{ALL}"), id="host-tabs")
                with ContentSwitcher(initial=f"pane-{ALL}", id="panes"):
                    yield OutputPane(id=f"pane-{ALL}")
                yield Input(placeholder="search the output; enter finds the last match", id="output-search")
        yield Static(id="plan-status")
        yield from self.compose_bottom()

    def target_minutes(self) -> float | None:
        """The drill scenario's target when drilling its plan, else the plan's own."""
        plan = self.session.plan
        guard = self.console.drill_guard
        drill = guard.scenario if guard is not None else None
        if drill is not None and drill.target_minutes and drill.plan == self.session.state.plan:
            return drill.target_minutes
        return plan.target_minutes if plan else None

    def on_mount(self) -> None:
        plan = self.session.plan
        table = self.query_one(DataTable)
        table.add_columns(("#", "n"), ("Status", "status"), ("Time", "time"), ("Step", "step"), ("Where", "where"))
        if plan is not None:
            self.rows = [("step", s) for s in plan.steps] + [("verify", s) for s in plan.verify]
            for n, (phase, step) in enumerate(self.rows, 1):
                label = step_label(step, phase)
                table.add_row(
                    str(n),
                    status_text("pending", self.app.theme_variables),
                    "",
                    label,
                    self.where(step, phase),
                    key=f"{phase}:{step.id}",
                )
            self.query_one("#plan-title", Static).update(
                Text.assemble(("Plan ", "bold"), (f"{self.session.state.plan} ", "bold"), plan.title)
            )
        self.query_one("#output-search", Input).display = False
        super().on_mount()
        self.redraw()
        self.move_to_next()  # a resumed session: the cursor on where it stopped
        self.resume_stopwatch()

    def resume_stopwatch(self) -> None:
        """A reopened session's stopwatch counts from the plan's first step (journal time), not from now."""
        steps = [
            e for e in self.session.events if e.type in (STEP_STARTED, STEP_FINISHED) and e.data.get("phase") == "step"
        ]
        if not steps:
            return
        watch = self.query_one(Stopwatch)
        now = self.console.clock()
        if self.session.pending_steps():
            watch.started, watch.stopped_at = now - max(0.0, time.time() - steps[0].ts), None
        else:
            watch.started, watch.stopped_at = now - (steps[-1].ts - steps[0].ts), now
        watch.tick()

    def where(self, step: Step, phase: str) -> str:
        """The step's target resolved with the session's values (a URL, a repo, a database),
        or as the runbook writes it while it waits on a value captured later."""
        if step_kind(step.kind).resolves_target:
            lines = self.session.describe(step, phase)
            if lines and not lines[0].startswith("(cannot resolve"):
                return resolved_target({"kind": step.kind, "describe": lines}) or target_of(step)
        return target_of(step)

    # --- events ---------------------------------------------------------------------------------

    def show_event(self, event: Event) -> None:
        data = event.data
        if event.type == OUTPUT:
            self.output(str(data.get("host", "local")), str(data.get("stream", "stdout")), str(data.get("text", "")))
        elif event.type == STEP_STARTED and data.get("phase") in ("step", "verify"):
            self.running = str(data.get("id"))
            self.query_one(Stopwatch).start()
            self.follow(f"{data.get('phase')}:{data.get('id')}")
            self.reset_output(self.hosts_of(str(data.get("id")), str(data.get("phase"))))
            resolved = resolved_target(data)
            if resolved:
                key = f"{data.get('phase')}:{data.get('id')}"
                self.query_one(DataTable).update_cell(key, "where", resolved, update_width=True)
            for line in data.get("describe") or []:
                self.output(self.hosts[0] if len(self.hosts) == 1 else ALL, "info", f"{line}\n")
        elif event.type == STEP_FINISHED and data.get("phase") in ("step", "verify"):
            self.running = None
            # A step that went well moves the cursor on; a failed one keeps it there, for r to retry.
            self.passed_in_batch = data.get("phase") == "step" and data.get("status") in ("ok", "dry_run", "skipped")
            if data.get("where"):  # where it really acted: the URL, the database libpq reached
                key = f"{data.get('phase')}:{data.get('id')}"
                self.query_one(DataTable).update_cell(key, "where", str(data["where"]), update_width=True)
            for host, outcome in (data.get("hosts") or {}).items():
                self.mark_host(str(host), str(outcome.get("status", "") if isinstance(outcome, dict) else outcome))

    def after_events(self) -> None:
        # The cursor follows the journal, not the worker: whatever order the batches arrive in, it
        # ends on the running step, or the next one once a step passed.
        if self.passed_in_batch and self.running is None:
            self.move_to_next()
        self.passed_in_batch = False
        self.redraw()

    def hosts_of(self, step_id: str, phase: str) -> list[str]:
        """The hosts an ssh step fans out to (one pane each); other kinds have one output."""
        step = next((s for p, s in self.rows if p == phase and s.id == step_id), None)
        # The session's runbook: a profile's groups are the ones the step runs on.
        return fan_out(step, self.session.runbook) if isinstance(step, SshAction) else []

    def output(self, host: str, stream: str, text: str) -> None:
        if len(self.hosts) > 1:
            self.pane(ALL).write("".join(f"[{host}] {line}\n" for line in text.splitlines()), stream)
            if host in self.hosts:
                self.pane(host).write(text, stream)
                if host not in self.heard:
                    self.heard.add(host)
                    self.query_one(Tabs).query_one(f"#tab-{_safe(host)}", Tab).label = f"▶ {host}"
                self.latest_host = host
        else:
            self.pane(ALL).write(text, stream)

    def pane(self, name: str) -> OutputPane:
        return self.query_one(f"#pane-{_safe(name)}", OutputPane)

    def reset_output(self, targets: list[str]) -> None:
        tabs = self.query_one(Tabs)
        for host in self.hosts:
            if len(self.hosts) > 1:
                tabs.remove_tab(f"tab-{_safe(host)}")
                self.pane(host).remove()
        self.hosts = targets
        self.heard = set()
        self.latest_host = ""
        self.pane(ALL).clear()
        if len(targets) > 1:
            switcher = self.query_one(ContentSwitcher)
            for host in targets:
                tabs.add_tab(Tab(host, id=f"tab-{_safe(host)}"))
                switcher.mount(OutputPane(id=f"pane-{_safe(host)}"))
        tabs.active = f"tab-{ALL}"

    def mark_host(self, host: str, status: str) -> None:
        if len(self.hosts) > 1 and host in self.hosts:
            mark = "✓" if status == "ok" else "✗"
            self.query_one(Tabs).query_one(f"#tab-{_safe(host)}", Tab).label = f"{mark} {host}"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        if event.tab is not None and event.tab.id:
            self.query_one(ContentSwitcher).current = "pane-" + event.tab.id.removeprefix("tab-")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "run" and isinstance(self.focused, Input))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_run()

    def redraw(self) -> None:
        state = self.session.state
        table = self.query_one(DataTable)
        done = 0
        for phase, step in self.rows:
            action = state.action(phase, step.id)
            if action is None:
                continue
            status = status_text(action.status, self.app.theme_variables)
            if action.attempts > 1:
                status.append(f" ×{action.attempts}", style="dim")
            done += action.done
            key = f"{phase}:{step.id}"
            table.update_cell(key, "status", status, update_width=True)
            duration = duration_text(action.last.get("duration") if action.last else None)
            table.update_cell(key, "time", duration, update_width=True)
        self.show_drift(table)
        self.fit_columns()
        status_line = self.query_one("#plan-status", Static)
        pending = self.session.pending_steps()
        if self.running:
            _, step = self.find(self.running)
            batch = getattr(step, "batch", 0) if step else 0
            hosts = f" on {len(self.hosts)} hosts" if len(self.hosts) > 1 else ""
            if batch and len(self.hosts) > 1 and self.latest_host in self.hosts:
                batches = -(-len(self.hosts) // batch)
                current = self.hosts.index(self.latest_host) // batch + 1
                hosts += f", {batch} at a time: batch {current}/{batches} ({self.latest_host})"
            status_line.update(Text(f"▶ running {self.running}{hosts} · a aborts", style="bold"))
        elif self.session.stop_reason:
            status_line.update(Text(f"Stopped: {self.session.stop_reason}", style=self.themed("bold $error")))
        elif not pending and self.session.plan is not None:
            self.query_one(Stopwatch).stop()
            status_line.update(self.verified_text())
        elif (failed := self.failed_next(pending)) is not None:
            status_line.update(Text(failed, style=self.themed("bold $error")))
        elif blocked := self.session.blocking_failures():
            # The engine holds every step until these pass or are overridden: say so before enter.
            line = f"Held: blocking pre-check {', '.join(blocked)} has not passed · F3 re-runs or overrides it"
            status_line.update(Text(line, style=self.themed("bold $warning")))
        else:
            steps = sum(1 for phase, _ in self.rows if phase == "step")
            _, upcoming = self.find(pending[0])
            line = f"{steps - len(pending)} of {steps} steps done · enter runs {pending[0]}"
            if upcoming is not None and upcoming.when:
                line += f" only if {upcoming.when}"
            elif upcoming is not None and upcoming.optional:
                line += " (optional: asks first)"
            status_line.update(Text(line))

    def fit_columns(self) -> None:
        """Wide: the steps table as wide as its titles want (30% to 60%), the output pane the rest;
        the table's Step and Where columns share what it has (it refits as it resizes)."""
        table = self.query_one(FitTable)
        share: int | None = None
        if self.size.width >= WIDE:
            natural = sum(
                max([cell_width(c.label), *(cell_width(table.get_cell(r, k)) for r in table.rows)]) + 2
                for k, c in table.columns.items()
            )
            share = round(max(0.3, min(0.6, (natural + 2) / self.size.width)) * 100)
        if share != self.steps_share:
            self.steps_share = share
            if share is None:
                table.styles.clear_rule("width")  # the narrow layout's CSS: the full width
            else:
                table.styles.width = f"{share}%"
        table.fit()

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit_columns)

    def failed_next(self, pending: list[str]) -> str | None:
        """The next step's last attempt failed (run alone, not by the plan): why, in full."""
        action = self.session.state.action("step", pending[0]) if pending else None
        if action is None or action.status in ("pending", "running", "ok", "skipped", "dry_run"):
            return None
        detail = str(action.last.get("detail") or "") if action.last else ""
        return f"✗ {pending[0]} {action.status}" + (f": {detail}" if detail else "") + " · r retries · s skips"

    def verified_text(self) -> Text:
        """After the last step: what the verification found, not a promise that it will."""
        checks = [(s.id, self.session.state.action("verify", s.id)) for phase, s in self.rows if phase == "verify"]
        failed = [i for i, a in checks if a is not None and a.done is False and a.status not in ("pending", "running")]
        ran = [i for i, a in checks if a is not None and a.status not in ("pending", "running")]
        if failed:
            text, style = f"All steps done · verification failed: {', '.join(failed)} · v re-runs it", "bold $error"
        elif checks and len(ran) == len(checks):
            walked = "walked (dry run)" if self.dry_run else "passed"
            text, style = f"All steps done · verification {walked} · F5 checklists · F7 record", "bold $success"
        elif checks:
            text, style = "All steps done · verifying…" if self.console.busy else "All steps done · v verifies", "bold"
        else:
            text, style = "All steps done (this plan has no verification) · F7 record", "bold $success"
        return Text(text, style=self.themed(style))

    @property
    def baselines(self) -> dict[str, Any]:
        """Step id -> {seconds, samples}: the drill baselines the engine journaled with the plan choice."""
        return dict(self.session.state.plan_event.get("baselines") or {})

    def show_drift(self, table: DataTable[Any]) -> None:
        """Mark the steps the engine journaled as far off their drill time ("step 4 (checkout): 3.1x
        its drill time") and say so once: the record and the printer say the same, from the same event."""
        for phase, step in self.rows:
            action = self.session.state.action(phase, step.id)
            if phase != "step" or action is None or action.status != "ok":
                continue
            found = action.last.get("drift")
            if not isinstance(found, dict) or not found.get("flagged"):
                continue
            ratio = f" {found['ratio']:.1f}x" if isinstance(found.get("ratio"), int | float) else " ∞x"
            marked = Text.assemble(duration_text(action.last.get("duration")), (ratio, self.themed("bold $warning")))
            table.update_cell(f"step:{step.id}", "time", marked)
            if step.id not in self.drifted:
                self.drifted.add(step.id)
                self.notify(
                    str(found.get("text")), title="Drift against earlier drills", severity="warning", timeout=10
                )

    def follow(self, key: str) -> None:
        """Keep the running step in view (a plan longer than the table runs off its bottom)."""
        table = self.query_one(DataTable)
        if key in table.rows:
            table.move_cursor(row=table.get_row_index(key), animate=False)

    @property
    def dry_run(self) -> bool:
        return bool(self.session.state.meta.get("dry_run"))

    def find(self, step_id: str) -> tuple[str, Step | None]:
        for phase, step in self.rows:
            if step.id == step_id:
                return phase, step
        return "step", None

    # --- intent -------------------------------------------------------------------------------

    def selected(self) -> tuple[str, Step] | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def _start(self, work: Callable[[], Coroutine[Any, Any, None]], what: str) -> None:
        if self.console.busy:
            self.notify("A step is running; wait, or abort it with a.", severity="warning")
            return
        self.console.engine(work(), what, group="step")

    def action_run(self) -> None:
        chosen = self.selected()
        pending = self.session.pending_steps()
        if chosen is not None and chosen[0] == "step" and chosen[1].id in pending:
            step_id = chosen[1].id
        elif pending:
            step_id = pending[0]
        else:
            self.notify("No step left to run; v verifies.")
            return
        self._start(lambda: self._run_step(step_id), f"Step {step_id}")

    async def _run_step(self, step_id: str) -> None:
        result = await self.session.run_step(step_id)
        if result.status == "declined":
            self.notify(result.detail or f"{step_id} did not run", severity="warning")
        elif not result.ok:
            # Briefly: the status line under the output keeps the reason in full.
            self.notify(f"{step_id} {result.status}: see the status line", severity="error", timeout=3)
        elif not self.session.pending_steps():
            await self._verify()  # the last step passed: verification starts by itself

    def move_to_next(self) -> None:
        pending = self.session.pending_steps()
        if pending:
            index = next(i for i, (p, s) in enumerate(self.rows) if p == "step" and s.id == pending[0])
            self.query_one(DataTable).move_cursor(row=index)

    def action_run_all(self) -> None:
        self._start(lambda: self._run_all(), "Run the plan")

    async def _run_all(self) -> None:
        await self.session.run_plan()
        if not self.session.pending_steps() and not self.session.stop_reason:
            await self._verify()  # every step done: verification starts by itself

    def action_retry(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen[0] != "step":
            return
        self._start(lambda: self._run_step(chosen[1].id), f"Retry {chosen[1].id}")

    def action_skip(self) -> None:
        from screens.reason import ReasonScreen

        chosen = self.selected()
        if chosen is None or chosen[0] != "step" or self.running == chosen[1].id:
            return
        step_id = chosen[1].id

        def with_reason(reason: str | None) -> None:
            if reason:
                self.console.engine(self.session.skip_step(step_id, reason), f"Skip {step_id}")

        self.app.push_screen(ReasonScreen(f"Skip {step_id}", "Why skip this step?"), callback=with_reason)

    def action_abort(self) -> None:
        if not self.console.busy:
            self.notify("Nothing is running.")
            return
        self.session.abort("aborted by the operator")
        self.notify("Aborting: the running commands are being stopped.", severity="warning")

    def action_verify(self) -> None:
        self._start(lambda: self._verify(), "Verify")

    async def _verify(self) -> None:
        results = await self.session.verify()
        failed = [r.id for r in results if not r.ok]
        if failed:
            self.notify(f"Verification failed: {', '.join(failed)}", severity="error", timeout=10)
        else:
            walked = "Verification walked (dry run, nothing checked)" if self.dry_run else "Verification passed"
            self.notify(f"{walked}. F5 checklists, F7 record.")

    def action_search(self) -> None:
        search = self.query_one("#output-search", Input)
        search.display = True
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "output-search":
            return
        event.stop()
        pane = self.query_one(ContentSwitcher).visible_content
        if isinstance(pane, OutputPane):
            found = pane.find(event.value)
            if event.value and found is None:
                self.notify(f"'{event.value}' is not in the last {len(pane.lines)} lines (the full output is on disk).")
        event.input.display = False
        self.query_one(DataTable).focus()

    def action_output_file(self) -> None:
        self.notify(f"Full output: {self.session.dir / 'output'}", timeout=15)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def step_label(step: Step, phase: str) -> Text:
    """A row's title, marked before it is reached: a step that asks first (⚠), one that runs only
    if its condition holds ([if]) and one the operator decides on ([optional])."""
    label = f"{'✔ ' if phase == 'verify' else ''}{step.title or step.id}"
    if step.optional:
        label = f"[optional] {label}"
    if step.when:
        label = f"[if] {label}"
    # Text, not str: a table cell given a str reads it as markup, and "[if]" (or a "[" in a title) would vanish.
    return Text(f"⚠ {label}" if step.confirm else label)
