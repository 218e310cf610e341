"""Who to call (the responsibility matrix) and the notification templates filled in with this session."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from screens.base import ConsoleScreen
from tui.runbook.placeholders import PLACEHOLDER
from tui.widgets.runbook_tables import contacts_table


class ContactsScreen(ConsoleScreen):
    WHERE = "Contacts & templates"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="contacts.back")]

    def scope(self) -> dict[str, str]:
        """What a template may name, as known now: the runbook's values, then the session's
        (params, plan, captured values) once it started. Secrets are never in it."""
        rb = self.runbook
        scope = {k: str(v) for k, v in rb.vars.items()}
        for key in ("service", "current_version", "target_version"):
            scope[key] = str(getattr(rb, key))
        session = self.console.session
        if session is None:
            return scope
        state = session.state
        meta = state.meta
        secret = {name for name, p in rb.params.items() if p.secret}
        scope |= {k: str(v) for k, v in (meta.get("params") or {}).items() if k not in secret}
        for key in ("operator", "session", "reason", "severity", "profile", "mode"):
            if meta.get(key):
                scope[key] = str(meta[key])
        if state.plan and state.plan in rb.plans:
            scope["plan"] = state.plan
            scope["plan_title"] = rb.plans[state.plan].title
        scope |= state.captured
        return scope

    def compose(self) -> ComposeResult:
        rb = self.runbook
        yield from self.compose_top(rb)
        with VerticalScroll(id="contacts-body"):
            if rb.contacts:
                yield Static(contacts_table(rb), classes="overview-table")
            else:
                yield Static("This runbook lists no contacts.")
            yield Vertical(id="templates")
        yield from self.compose_bottom()

    def on_mount(self) -> None:
        self.redraw()

    def on_screen_resume(self) -> None:
        # The session moved on since this screen was last shown (a plan chosen, values captured).
        self.redraw()

    def redraw(self) -> None:
        box = self.query_one("#templates", Vertical)
        box.remove_children()
        scope = self.scope()
        missing = self.themed("bold $warning")
        for template in self.runbook.templates:
            head = Text(f"\n{template.title or template.id}", style="bold")
            if template.channel:
                head.append(f"  ({template.channel})", style="dim")
            box.mount(Static(head), Static(fill(template.body, scope, missing), classes="template-body"))

    def action_back(self) -> None:
        if self.console.is_session_screen(self):
            self.console.action_show("plan")
        else:
            self.app.pop_screen()


def fill(body: str, scope: dict[str, str], missing_style: str) -> Text:
    """The template with every known value filled in; what is not known yet stays ``{{ name }}``,
    marked, so the operator sees what to fill in by hand before sending it."""
    text = Text()
    end = 0
    for match in PLACEHOLDER.finditer(body):
        text.append(body[end : match.start()])
        name = match.group(1)
        if name in scope:
            text.append(scope[name])
        else:
            text.append(match.group(0), style=missing_style)
        end = match.end()
    text.append(body[end:])
    return text
