"""Triage: walk the flowchart one question at a time, the path highlighted on the graph, to a plan."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.base import SessionScreen
from screens.status import themed
from tui.engine.monitors import MonitorReading
from tui.runbook.model import Flow
from tui.widgets.flowchart import FlowChart


def walk(flow: Flow, node: str) -> list[str]:
    """``node`` and the plain ``next`` links after it, up to a question or a leaf."""
    path = [node]
    for _ in range(len(flow.nodes)):
        following = flow.nodes[path[-1]].next
        if following is None or following not in flow.nodes:
            break
        path.append(following)
    return path


class GraphPane(ScrollableContainer):
    """The graph's viewport. It shrinks when the panel below grows (a recommendation is taller than
    a question), which would push the asked node out of view: it centres it again."""

    def on_resize(self, event: events.Resize) -> None:
        if isinstance(self.screen, TriageScreen):
            self.screen.scroll_to_current()


class TriageScreen(SessionScreen):
    WHERE = "Triage"
    AUTO_FOCUS = "#triage-options"
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: the option list's own (hidden) enter would otherwise hide this one from the footer.
        Binding("enter", "choose", "Answer / choose plan", priority=True, id="triage.choose"),
        Binding("p", "other_plan", "Another plan", id="triage.other"),
        Binding("v", "severity", "Severity", id="triage.severity"),
        Binding("t", "toggle_chart", "Chart", tooltip="Flowchart as outline or graph", id="triage.toggle"),
    ]
    MONITORS_EVERY = 5.0  # seconds between readings of the live monitors

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []
        self.reached: dict[str, object] | None = None
        self.readings: list[MonitorReading] | None = None
        self.suggested: str | None = None

    def compose(self) -> ComposeResult:
        rb = self.runbook
        yield from self.compose_top(rb)
        with GraphPane(id="triage-graph"):
            if rb.flow is not None:
                yield FlowChart(rb.flow, {k: p.title for k, p in rb.plans.items()})
        with Vertical(id="triage-panel"):
            if self.session.has_live_monitors:
                # A few lines that scroll: a runbook with a dozen monitors must not push the
                # question and its answers off an 80x24 screen.
                with ScrollableContainer(id="triage-monitors-box"):
                    yield Static("monitors: reading…", id="triage-monitors")
            yield Static(id="triage-question")
            yield OptionList(id="triage-options")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        super().on_mount()
        self.redraw()
        if self.session.has_live_monitors:
            self.set_interval(self.MONITORS_EVERY, self.refresh_monitors)

    def after_events(self) -> None:
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "severity":  # set from the monitors' suggestion: only where monitors are live
            return bool(self.runbook.severity) and self.session.has_live_monitors
        return True

    def refresh_monitors(self) -> None:
        async def read() -> None:
            self.readings, self.suggested = await self.session.peek_monitors()
            self.draw_monitors()

        self.console.engine(read(), "Read the monitors", group="monitors-peek")

    def draw_monitors(self) -> None:
        if not self.session.has_live_monitors:
            return
        readings, suggested = self.readings, self.suggested
        if readings is None and self.session.state.monitors:
            last = self.session.state.monitors[-1]
            readings = [MonitorReading(**r) for r in last.get("readings") or []]
            suggested = last.get("suggested")
        # The verdict first, then one line per monitor (cut, not wrapped): what fires stays in
        # sight above the fold of the scrolling box.
        text = Text()
        if readings is None:
            text.append("monitors: reading…", style="dim")
        else:
            current = self.session.state.meta.get("severity") or "not set"
            advice = f"monitors suggest {suggested}" if suggested else "no monitor fires"
            unread = sum(r.state in ("error", "no_data") for r in readings)
            if unread:  # "none fires" from monitors nobody could read is no all-clear
                advice += f" ({unread} of {len(readings)} not read)"
            text.append(f"{advice} · severity: {current}", style="bold")
            if self.runbook.severity:
                text.append(" · v to set it", style="dim")
        styles = {"fires": "bold $error", "no_data": "$warning", "error": "$warning", "quiet": "dim"}
        marks = {"fires": "🔥", "quiet": "·", "no_data": "∅", "error": "✗"}
        order = {"fires": 0, "error": 1, "no_data": 2, "quiet": 3}
        for reading in sorted(readings or [], key=lambda r: order.get(r.state, 1)):
            level = f" [{reading.severity}]" if reading.severity else ""
            style = themed(styles.get(reading.state, ""), self.app.theme_variables)
            text.append(f"\n{marks.get(reading.state, '?')} {reading.title}{level}: {reading.shown}", style=style)
        self.query_one("#triage-monitors", Static).update(text)

    def action_severity(self) -> None:
        from screens.question import ChoiceScreen

        suggested = self.suggested or (
            self.session.state.monitors[-1].get("suggested") if self.session.state.monitors else None
        )
        levels = sorted(self.runbook.severity, key=lambda s: s.level != suggested)
        options = [
            (f"{s.level} {s.name}" + ("  (monitors suggest)" if s.level == suggested else ""), s.level) for s in levels
        ]

        def chosen(level: str | None) -> None:
            if level:
                self.console.engine(self.session.set_severity(level, suggested), "Set the severity")

        self.app.push_screen(ChoiceScreen("Incident severity", "", options, None), callback=chosen)

    @property
    def question_node(self) -> str | None:
        flow = self.runbook.flow
        if flow is None or not self.path:
            return None
        node = flow.nodes[self.path[-1]]
        return self.path[-1] if node.options else None

    def redraw(self) -> None:
        flow = self.runbook.flow
        state = self.session.state
        self.draw_monitors()
        if flow is None:
            if state.plan is None:  # no flowchart: the plans, the severity's first
                options = self.query_one(OptionList)
                options.clear_options()
                self.show_recommendation()
                options.highlighted = 0 if options.option_count else None
            return
        self.path = walk(flow, flow.start)
        for answer in state.triage:
            node = flow.nodes.get(str(answer.get("node")))
            option = int(answer.get("option", 0))
            if node is not None and 0 <= option < len(node.options):
                self.path += walk(flow, node.options[option].next)
        self.reached = state.reached
        chart = self.query_one(FlowChart)
        chart.path = tuple(self.path)
        chart.current = self.path[-1]
        self.call_after_refresh(self.scroll_to_current)
        options = self.query_one(OptionList)
        options.clear_options()
        question = self.query_one("#triage-question", Static)
        current = self.question_node
        if state.plan is not None:
            plan = self.runbook.plans[state.plan]
            question.update(Text.assemble(("Plan chosen: ", "bold"), f"{state.plan} {plan.title}"))
            options.add_option(Option("Go to the pre-checks (F3)", id="go"))
        elif current is not None:
            node = flow.nodes[current]
            text = Text()
            by_severity = self.severity_plan() if not state.triage else None
            if by_severity is not None:
                level, plan_id = by_severity
                text.append(f"Severity {level} recommends plan {plan_id}: enter starts it; or answer below.\n")
                title = self.runbook.plans[plan_id].title
                options.add_option(Option(Text(f"★ plan {plan_id}: {title} (severity {level})"), id=f"plan:{plan_id}"))
            text.append(node.ask or node.text, style="bold")
            if node.ask:  # on a line of its own: wrapped after the question it read "(3." then the rest
                text.append(f"\n{node.text}", style="dim")
            question.update(text)
            for index, option in enumerate(node.options):
                options.add_option(Option(Text(f"{index + 1}. {option.label}"), id=f"answer:{index}"))
        else:
            self.show_recommendation()
        options.highlighted = 0 if options.option_count else None

    def severity_plan(self) -> tuple[str, str] | None:
        """(level, plan) when the severity chosen at the start recommends a plan."""
        level = self.session.state.meta.get("severity")
        row = next((s for s in self.runbook.severity if s.level == level and s.plan in self.runbook.plans), None)
        return (row.level, str(row.plan)) if row is not None else None

    def scroll_to_current(self) -> None:
        """Keep the node being asked about in view when the graph is bigger than the pane."""
        if not self.path or self.runbook.flow is None:
            return  # no flowchart to scroll (a runbook without [flow])
        chart = self.query_one(FlowChart)
        region = chart.node_region(self.path[-1])
        if region is not None:
            container = self.query_one("#triage-graph", ScrollableContainer)
            container.scroll_to_region(region, animate=False, center=True, immediate=True)

    def action_toggle_chart(self) -> None:
        self.query_one(FlowChart).toggle()
        self.call_after_refresh(self.scroll_to_current)

    def show_recommendation(self) -> None:
        options = self.query_one(OptionList)
        question = self.query_one("#triage-question", Static)
        recommended = self.session.recommended_plan
        leaf = self.runbook.flow.nodes[self.path[-1]] if self.runbook.flow else None
        text = Text()
        if recommended:
            plan = self.runbook.plans[recommended]
            text.append(f"Recommended: plan {recommended} · {plan.title}", style="bold")
            if plan.target_minutes:
                text.append(f" · target {plan.target_minutes:g} min")
            if plan.when:
                text.append("\nwhen: " + "; ".join(plan.when), style="dim")
        elif leaf is not None and leaf.action:
            text.append(f"Recommendation: {leaf.action} (no rollback)", style="bold")
        question.update(text)
        ordered = sorted(self.runbook.plans, key=lambda p: p != recommended)
        for plan_id in ordered:
            plan = self.runbook.plans[plan_id]
            mark = "★ " if plan_id == recommended else "  "
            target = f" ({plan.target_minutes:g} min)" if plan.target_minutes else ""
            options.add_option(Option(Text(f"{mark}plan {plan_id}: {plan.title}{target}"), id=f"plan:{plan_id}"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option.id or "")

    def action_choose(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self.choose(options.get_option_at_index(options.highlighted).id or "")

    def choose(self, choice: str) -> None:
        kind, _, value = choice.partition(":")
        if kind == "go":
            self.console.action_show("prechecks")
        elif kind == "answer" and self.question_node is not None:
            self.console.engine(self.session.answer_triage(self.question_node, int(value)), "Triage")
        elif kind == "plan":
            self.pick_plan(value)

    def action_other_plan(self) -> None:
        if self.session.state.plan is None and self.question_node is not None:
            self.show_recommendation()

    def pick_plan(self, plan_id: str) -> None:
        from screens.reason import ReasonScreen

        recommended = self.session.recommended_plan
        if recommended is None or plan_id == recommended:
            self.console.engine(self._choose(plan_id, ""), "Choose the plan")
            return

        def with_reason(reason: str | None) -> None:
            if reason:
                self.console.engine(self._choose(plan_id, reason), "Choose the plan")

        self.app.push_screen(
            ReasonScreen(f"Plan {plan_id} instead of {recommended}", "Why another plan than the recommended one?"),
            callback=with_reason,
        )

    async def _choose(self, plan_id: str, reason: str) -> None:
        await self.session.choose_plan(plan_id, reason)
        self.console.action_show("prechecks")
