"""A runbook at a glance: severity table, the flowchart as a graph, matrix, plans, contacts."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import HorizontalScroll, VerticalScroll
from textual.widgets import Static

from screens.base import ConsoleScreen
from tui.runbook.loader import Loaded
from tui.widgets.flowchart import FlowChart
from tui.widgets.runbook_tables import contacts_table, matrix_table, plans_table, severity_table


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
