"""Pre-checks: a live table; run all in parallel, re-run one, override a blocking failure with a reason."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from screens.base import SessionScreen
from screens.status import duration_text, resolved_target, status_text, target_of
from tui.engine.events import CHECK_STARTED, Event


class PrechecksScreen(SessionScreen):
    WHERE = "Pre-checks"
    AUTO_FOCUS = "#checks-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start_plan", "Start plan", priority=True, id="checks.plan"),
        Binding("a", "run_all", "Run all", id="checks.all"),
        Binding("r", "rerun", "Re-run one", id="checks.one"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.started = False

    def compose(self) -> ComposeResult:
        yield from self.compose_top(self.runbook)
        yield DataTable(id="checks-table", cursor_type="row")
        yield Static(id="checks-detail")
        yield Static(id="checks-summary")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # Status first: long (CJK) check titles must not push it off an 80-column screen.
        table.add_column("Status", key="status")
        table.add_column("Time", key="time")
        table.add_column("Check", key="check")
        table.add_column("Target", key="target")
        table.add_column("Detail", key="detail")
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
        if not self.session.state.in_phase("pre") and self.runbook.checks:
            self.action_run_all()

    def show_event(self, event: Event) -> None:
        if event.type == CHECK_STARTED and event.data.get("phase") == "pre":
            resolved = resolved_target(event.data)
            if resolved:
                self.query_one(DataTable).update_cell(str(event.data.get("id")), "target", resolved, update_width=True)

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
        blocking = self.session.blocking_failures()
        summary = self.query_one("#checks-summary", Static)
        if blocking:
            summary.update(
                Text(
                    f"Blocking: {', '.join(blocking)}. enter asks for a reason to go on.",
                    style=self.themed("bold $error"),
                )
            )
        elif state.plan and not self.runbook.checks:
            summary.update(f"This runbook has no pre-checks. enter: start plan {state.plan}")
        elif state.plan:
            summary.update(f"{failing} not passing. enter: start plan {state.plan}")
        else:
            summary.update("Choose a plan in triage first (F2).")
        self.show_detail()

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
        from screens.reason import ReasonScreen

        if self.session.state.plan is None:
            self.notify("Choose a plan in triage first (F2).", severity="warning")
            return
        blocking = self.session.blocking_failures()
        if not blocking:
            self.console.action_show("plan")
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.console.engine(self._override(blocking, reason), "Override pre-checks")

        self.app.push_screen(
            ReasonScreen("Blocking pre-checks failed", f"{', '.join(blocking)} did not pass. Why go on?"),
            callback=with_reason,
        )

    async def _override(self, ids: list[str], reason: str) -> None:
        for check_id in ids:
            await self.session.override_check(check_id, reason)
        self.console.action_show("plan")
