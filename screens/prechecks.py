"""Pre-checks: a live table; run all in parallel, re-run one, override a blocking failure with a reason."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from screens.base import SessionScreen
from screens.status import duration_text, resolved_target, status_text, target_of
from tui.engine.events import CHECK_FINISHED, CHECK_STARTED, Event
from tui.widgets.columns import FitTable


class PrechecksScreen(SessionScreen):
    WHERE = "Pre-checks"
    AUTO_FOCUS = "#checks-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start_plan", "Open plan", priority=True, id="checks.plan"),
        Binding("g", "run_plan", "Run plan", tooltip="Start the plan: run every step", id="checks.run"),
        Binding("a", "run_all", "Re-run all", tooltip="Run every pre-check again", id="checks.all"),
        Binding("r", "rerun", "Re-run one", id="checks.one"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.started = False
        self.armed: bool | None = None  # pressed while checks ran: on passing, open the plan (False) or run it (True)

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        # Long (CJK) titles share the width with Target and Detail instead of pushing them off screen.
        yield FitTable({"check": 0.45, "target": 0.25, "detail": 0.3}, id="checks-table", cursor_type="row")
        yield Static(id="checks-detail")
        yield Static(id="checks-summary")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Status first: long (CJK) check titles must not push it off an 80-column screen.
        table.add_columns(
            ("Status", "status"), ("Time", "time"), ("Check", "check"), ("Target", "target"), ("Detail", "detail")
        )
        for check in self.runbook.checks:
            table.add_row(
                status_text("pending", self.app.theme_variables),
                "",
                check.title or check.id,
                target_of(check),
                "",
                key=check.id,
            )
        table.display = bool(self.runbook.checks)
        super().on_mount()
        self.redraw()
        missing = self.session.checks_not_run()
        if missing and not self.session.read_only and not self.session.state.result:
            self.console.engine(self.session.run_checks(missing), "Pre-checks", group="checks")

    def show_event(self, event: Event) -> None:
        if event.type == CHECK_STARTED and event.data.get("phase") == "pre":
            resolved = resolved_target(event.data)
            if resolved:
                self.query_one(DataTable).update_cell(str(event.data.get("id")), "target", resolved, update_width=True)
        elif event.type == CHECK_FINISHED and event.data.get("phase") == "pre" and event.data.get("where"):
            where = str(event.data["where"])
            self.query_one(DataTable).update_cell(str(event.data.get("id")), "target", where, update_width=True)

    def after_events(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        state = self.session.state
        failing = 0
        for check in self.runbook.checks:
            action = state.action("pre", check.id)
            if action is None:
                continue
            detail = self.detail_of(check.id, action.status, action.last or {})
            if check.id in state.overrides:
                detail = f"overridden: {state.overrides[check.id]}"
            status = status_text(action.status, self.app.theme_variables)
            if action.status not in ("ok", "pending", "running", "dry_run", "skipped") and check.severity == "warning":
                status.append(" (warning)", style=self.themed("$warning"))
            failing += action.status not in ("ok", "pending", "running", "dry_run", "skipped")
            table.update_cell(check.id, "status", status, update_width=True)
            table.update_cell(
                check.id, "time", duration_text(action.last.get("duration") if action.last else None), update_width=True
            )
            table.update_cell(check.id, "detail", detail.splitlines()[0][:120] if detail else "", update_width=True)
        running = self.still_running()
        blocking = [c for c in self.session.blocking_failures() if c not in running]
        summary = self.query_one("#checks-summary", Static)
        plan = state.plan
        if blocking:
            summary.update(
                Text(
                    f"Blocking: {', '.join(blocking)} failed. enter asks for a reason to go on.",
                    style=self.themed("bold $error"),
                )
            )
        elif running:
            then = {None: "", False: f"; then plan {plan} opens", True: f"; then plan {plan} runs"}[self.armed]
            summary.update(f"Running {len(running)} of {len(self.runbook.checks)} pre-checks{then}…")
        elif plan and not self.runbook.checks:
            summary.update(f"This runbook has no pre-checks. g: run plan {plan} · enter: open it")
        elif plan:
            summary.update(f"{failing} not passing. g: run plan {plan} · enter: open it")
        else:
            summary.update("Choose a plan in triage first (F2).")
        if self.armed is not None and not running and not self.console.busy:
            armed, self.armed = self.armed, None
            if not blocking:
                self.go(armed)
        self.show_detail()
        self.query_one(FitTable).fit()

    def still_running(self) -> list[str]:
        """Pre-checks started and not finished (not failures yet, whatever their severity)."""
        return [
            c.id
            for c in self.runbook.checks
            if (a := self.session.state.action("pre", c.id)) is not None and a.status in ("pending", "running")
        ]

    def detail_of(self, check_id: str, status: str, last: dict[str, object]) -> str:
        """A passing check's summary ("HTTP 200 OK in 90 ms"); a failing one's reason, without the
        target the row already shows ("error_rate: 0.12, expected < 0.01")."""
        summary, detail = str(last.get("summary") or ""), str(last.get("detail") or "")
        if status in ("ok", "dry_run", "skipped", "running", "pending") or not detail:
            return summary or detail
        target = str(self.query_one(DataTable).get_cell(check_id, "target"))
        return detail.removeprefix(f"{target}: ")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        table = self.query_one(DataTable)
        if not self.runbook.checks or table.cursor_row < 0:
            return
        check = self.runbook.checks[min(table.cursor_row, len(self.runbook.checks) - 1)]
        action = self.session.state.action("pre", check.id)
        text = Text(f"{check.id} · {check.kind} · {check.severity}", style="bold")
        if action is not None and action.last:
            detail = str(action.last.get("detail") or "")
            excerpt = action.last.get("excerpt") or ""
            if isinstance(excerpt, dict):  # per host
                excerpt = "\n".join(str(text) for text in excerpt.values())
            if detail:
                text.append(f"\n{detail}")
            if isinstance(excerpt, str) and excerpt:
                text.append("\n" + "\n".join(excerpt.splitlines()[-3:]), style="dim")
        self.query_one("#checks-detail", Static).update(text)

    def action_run_all(self) -> None:
        self.console.engine(self.session.run_checks(), "Pre-checks", group="checks")

    def action_rerun(self) -> None:
        table = self.query_one(DataTable)
        if self.runbook.checks and table.cursor_row >= 0:
            check = self.runbook.checks[table.cursor_row]
            self.console.engine(self.session.run_checks([check.id]), f"Re-run {check.id}", group="checks")

    def action_start_plan(self) -> None:
        self.start_plan(run=False)

    def action_run_plan(self) -> None:
        self.start_plan(run=True)

    def start_plan(self, run: bool) -> None:
        from screens.reason import ReasonScreen

        if self.session.state.plan is None:
            self.notify("Choose a plan in triage first (F2).", severity="warning")
            return
        if self.still_running():
            self.armed = run  # the plan goes on when they pass; a failure stops it here
            self.redraw()
            return
        blocking = self.session.blocking_failures()
        if not blocking:
            self.go(run)
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.console.engine(self._override(blocking, reason, run), "Override pre-checks")

        self.app.push_screen(
            ReasonScreen("Blocking pre-checks failed", f"{', '.join(blocking)} did not pass. Why go on?"),
            callback=with_reason,
        )

    def go(self, run: bool) -> None:
        if run:
            self.console.run_plan()
        else:
            self.console.action_show("plan")

    async def _override(self, ids: list[str], reason: str, run: bool) -> None:
        for check_id in ids:
            await self.session.override_check(check_id, reason)
        self.go(run)
