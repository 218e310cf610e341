"""Incident start: who, why, how bad, the runbook's params (validated inline), profile, live or drill."""

from __future__ import annotations

import getpass
import re
from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from screens.base import ConsoleScreen
from tui.engine.api import StartOptions
from tui.runbook.durations import parse_duration
from tui.runbook.model import Param, Runbook
from tui.widgets.tick_box import TickBox


def param_problem(param: Param, value: str) -> str:
    """Why ``value`` does not fit ``param`` ("" when it does)."""
    if not value:
        return "required" if param.required and param.default is None else ""
    if param.type == "int":
        try:
            int(value)
        except ValueError:
            return "a whole number"
    if param.type == "duration":
        try:
            parse_duration(value)
        except ValueError:
            return "a duration such as 90s, 5m, 1h30m"
    if param.type == "choice" and value not in param.choices:
        return "one of " + ", ".join(param.choices)
    if param.pattern and not re.fullmatch(param.pattern, value):
        return f"must match {param.pattern}"
    return ""


def command_line(rb: Runbook, start: StartOptions) -> list[str]:
    """What the targeting flags set that the form has no field for (params show in their own); the ssh
    files may come from the flags, the environment or the config file, so they are named, not flagged."""
    lines = [f"--var {name}={value}" for name, value in start.values.items() if name not in rb.params]
    profile, ssh_config, known_hosts = start.profile, start.ssh_config, start.known_hosts
    if profile and profile not in rb.profiles:
        known = ", ".join(rb.profiles) or "none"
        lines.append(f"--profile {profile}: not a profile of this runbook (known: {known}); not used")
    if ssh_config:
        lines.append(f"ssh config: {ssh_config}")
    if known_hosts:
        lines.append(f"known hosts: {known_hosts}")
    return lines


class IncidentStartScreen(ConsoleScreen):
    WHERE = "Start incident"
    AUTO_FOCUS = "#start-reason"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start", id="start.go"),
        Binding("escape", "cancel", "Back", id="start.back"),
    ]

    def __init__(self, submit: bool = False) -> None:
        super().__init__()
        self.submit = submit  # open --plan --reason: start at once unless the form lacks a value

    def compose(self) -> ComposeResult:
        rb = self.runbook
        options = self.console.options.start
        yield from self.compose_top(rb)
        with VerticalScroll(id="start-form"):
            yield Label("Operator")
            yield Input(options.operator or getpass.getuser(), compact=True, id="start-operator")
            reason_param = rb.params.get("reason")
            yield Label((reason_param.prompt if reason_param else "") or "Reason", id="label-reason", markup=False)
            reason = options.reason or options.values.get("reason", "")
            yield Input(reason, placeholder="what went wrong? (required)", compact=True, id="start-reason")
            if rb.severity:
                yield Label("Severity")
                choices = [(Text(f"{s.level}  {s.name}"), s.level) for s in rb.severity]
                yield Select(choices, prompt="choose a level", compact=True, id="start-severity")
            for name, param in rb.params.items():
                if name == "reason":
                    continue
                yield Label(param.prompt or name, id=f"label-{name}", markup=False)
                yield self._param_widget(name, param)
            if rb.profiles:
                yield Label("Profile")
                profiles = [(Text(f"{p_id}  {p.title}".strip()), p_id) for p_id, p in rb.profiles.items()]
                yield Select(
                    profiles,
                    prompt="no profile",
                    value=options.profile if options.profile in rb.profiles else Select.NULL,
                    compact=True,
                    id="start-profile",
                )
            given = command_line(rb, options)
            if given:
                yield Label("From the command line and the config")
                yield Static("\n".join(given), id="start-given", markup=False)
            yield Label("Mode")
            yield TickBox("Drill (rehearsal)", options.mode == "drill", compact=True, id="start-drill")
            yield Label("")
            yield TickBox("Dry run (run nothing)", options.dry_run, compact=True, id="start-dry-run")
            yield Label("")
            yield Button("Start  (ctrl+s)", variant="primary", compact=True, id="start-go")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.initial = self.form_values()
        if self.submit:
            self.call_after_refresh(self.action_start)

    def form_values(self) -> list[object]:
        return [widget.value for widget in self.query("Input, Select, Checkbox")]  # type: ignore[attr-defined]

    def unsaved(self) -> bool:
        """Whether the operator filled something in (quitting would throw it away)."""
        return self.form_values() != self.initial

    def _param_widget(self, name: str, param: Param) -> Widget:
        given = self.console.options.start.values
        default = given.get(name, "" if param.default is None else str(param.default))
        if param.type == "choice":
            return Select(
                [(c, c) for c in param.choices], value=default or Select.NULL, compact=True, id=f"param-{name}"
            )
        if param.type == "bool":
            checked = default.lower() in ("1", "true", "yes", "on")
            return TickBox(name, checked, compact=True, id=f"param-{name}")
        hint = "required" if param.required and param.default is None else "optional"
        if param.type != "string":
            hint = f"{hint}, {param.type}"
        return Input(default, password=param.secret, placeholder=hint, compact=True, id=f"param-{name}")

    def _value(self, name: str) -> str:
        widget = self.query_one(f"#param-{name}")
        if isinstance(widget, Checkbox):
            return "true" if widget.value else "false"
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        assert isinstance(widget, Input)
        return widget.value.strip()

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("param-")
        if name in self.runbook.params:
            self.show_problem(name, param_problem(self.runbook.params[name], event.value))

    def show_problem(self, name: str, problem: str) -> None:
        label = self.query_one(f"#label-{name}", Label)
        param = self.runbook.params.get(name)
        prompt = (param.prompt if param else "") or name.capitalize()
        label.update(f"{prompt} ✗ {problem}" if problem else prompt)
        label.set_class(bool(problem), "error-text")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start-go":
            self.action_start()

    def action_cancel(self) -> None:
        self.app.pop_screen()

    def action_start(self) -> None:
        rb = self.runbook
        reason = self.query_one("#start-reason", Input).value.strip()
        problems: list[str] = []
        self.show_problem("reason", "" if reason else "required")
        if not reason:
            problems.append("reason: required")
        values: dict[str, str] = {}
        for name, param in rb.params.items():
            if name == "reason":
                values[name] = reason
                continue
            value = self._value(name)
            problem = param_problem(param, value)
            self.show_problem(name, problem)
            if problem:
                problems.append(f"{name}: {problem}")
            elif value:
                values[name] = value
        if problems:
            self.notify("; ".join(problems), title="Check the form", severity="error")
            return
        given = self.console.options.start
        for name, value in given.values.items():
            values.setdefault(name, value)  # --var overrides of [vars] ride along
        severity: Any = self.query_one("#start-severity", Select).value if rb.severity else None
        profile: Any = self.query_one("#start-profile", Select).value if rb.profiles else None
        # The command line's options with what the form says over them (scenario, plan, ssh files stay).
        self.console.start_session(
            replace(
                given,
                operator=self.query_one("#start-operator", Input).value.strip() or None,
                reason=reason,
                severity=None if severity is Select.NULL else severity,
                values=values,
                profile=None if profile is Select.NULL else profile,
                mode="drill" if self.query_one("#start-drill", Checkbox).value else "live",
                dry_run=self.query_one("#start-dry-run", Checkbox).value,
            )
        )
