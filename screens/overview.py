"""A runbook at a glance: severity table, the flowchart as a graph, matrix, plans, contacts."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.widgets import Static

from screens.base import ConsoleScreen
from tui.runbook.loader import Loaded
from tui.runbook.model import Runbook
from tui.widgets.flowchart import FlowChart


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=False, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _add(table: Table, *cells: str) -> None:
    """A row as written: Rich reads a str cell as markup (a runbook's "[docker]" would vanish)."""
    table.add_row(*(Text(cell) for cell in cells))


def severity_table(rb: Runbook) -> Table:
    table = _table("Severity", "Level", "Name", "Conditions", "Action", "Decider", "Within", "Plan")
    for s in rb.severity:
        _add(table, s.level, s.name, "\n".join(s.conditions), s.action, s.decider, s.respond_within, s.plan or "")
    return table


def matrix_table(rb: Runbook) -> Table:
    table = _table("Decision matrix", "Level", "Scope / situation", "Strategy", "Within", "Owner", "Plan")
    for row in rb.matrix:
        _add(table, row.level, row.scope or row.situation, row.strategy, row.within, row.owner, row.plan or "")
    return table


def plans_table(rb: Runbook) -> Table:
    table = _table("Plans", "Plan", "Title", "When", "Target", "Steps")
    for plan_id, plan in rb.plans.items():
        target = f"{plan.target_minutes:g} min" if plan.target_minutes else ""
        _add(table, plan_id, plan.title, "\n".join(plan.when), target, str(len(plan.steps)))
    return table


CALL_WHEN = {"failed": "a step fails", "overdue": "plan overdue"}


def contacts_table(rb: Runbook) -> Table:
    """Who to call, in escalation order (those with an order first), with how to reach them and
    when the console will say to call them. Columns nobody fills are left out, so the table fits."""
    ranked = sorted(rb.contacts, key=lambda c: c.order if c.order is not None else 1_000_000)
    columns = {
        "#": lambda c: str(c.order) if c.order is not None else "",
        "Role": lambda c: c.role,
        "Name": lambda c: c.name,
        "Phone": lambda c: c.phone,
        "Chat": lambda c: c.chat,
        "Email": lambda c: c.email,
        "Duty": lambda c: c.duty,
        "Call when": lambda c: ", ".join(CALL_WHEN[reason] for reason in c.escalate),
    }
    shown = {name: cell for name, cell in columns.items() if name == "Role" or any(cell(c) for c in ranked)}
    table = _table("Contacts", *shown)
    for contact in ranked:
        _add(table, *(cell(contact) for cell in shown.values()))
    return table


class OverviewScreen(ConsoleScreen):
    WHERE = "Overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start incident", id="overview.start"),
        Binding("c", "contacts", "Contacts", id="overview.contacts"),
        Binding("t", "toggle_chart", "Chart", tooltip="Flowchart as outline or graph", id="overview.toggle"),
        Binding("escape", "back", "Runbooks", id="overview.back"),
    ]

    def __init__(self, loaded: Loaded) -> None:
        super().__init__()
        self.loaded = loaded

    def compose(self) -> ComposeResult:
        rb = self.loaded.runbook
        assert rb is not None
        yield from self.compose_top(rb)
        with VerticalScroll(id="overview-body"):
            head = Text()
            head.append(f"{rb.title}\n", style="bold")
            head.append(f"service {rb.service}")
            if rb.owner:
                head.append(f" · owner {rb.owner}")
            if rb.current_version or rb.target_version:
                head.append(f" · {rb.current_version or '?'} → {rb.target_version or '?'}", style="bold")
            if rb.summary:
                head.append(f"\n{rb.summary}", style="dim")
            yield Static(head, id="overview-head")
            # The flowchart first: at 80x24 its start is on the first screen, the tables below it.
            if rb.flow is not None:
                yield Static(Text("Decision flowchart", style="bold"), classes="section-title")
                with HorizontalScroll(classes="flow-scroll"):
                    yield FlowChart(rb.flow, {k: p.title for k, p in rb.plans.items()})
            if rb.severity:
                yield Static(severity_table(rb), classes="overview-table")
            if rb.matrix:
                yield Static(matrix_table(rb), classes="overview-table")
            yield Static(plans_table(rb), classes="overview-table")
            if rb.contacts:
                yield Static(contacts_table(rb), classes="overview-table")
        yield from self.compose_bottom()

    def action_start(self) -> None:
        from screens.incident_start import IncidentStartScreen

        if self.console.session is not None:
            self.console.show_first()
            return
        self.app.push_screen(IncidentStartScreen())

    def action_toggle_chart(self) -> None:
        for chart in self.query(FlowChart):
            chart.toggle()
            self.call_after_refresh(self.show_start, chart)

    def show_start(self, chart: FlowChart) -> None:
        """A graph wider than the screen: its start node in view, not the blank left of it."""
        region = chart.node_region(chart.flow.start)
        scroll = chart.parent
        if region is not None and isinstance(scroll, HorizontalScroll):
            scroll.scroll_to_region(region, animate=False, center=True, immediate=True)

    def action_contacts(self) -> None:
        from screens.contacts import ContactsScreen

        self.app.push_screen(ContactsScreen())

    def action_back(self) -> None:
        from screens.picker import PickerScreen

        if self.console.session is not None:
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:
            self.app.switch_screen(PickerScreen())
