"""Who to call (the responsibility matrix) and the notification templates filled in with this session."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.base import ConsoleScreen
from screens.overview import contacts_table
from tui.runbook.placeholders import RenderError, Value, render_text


class ContactsScreen(ConsoleScreen):
    WHERE = "Contacts & templates"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="contacts.back")]

    def scope(self) -> dict[str, Value]:
        """What a template may name: the runbook's values, and the session's once it started."""
        rb = self.runbook
        scope = {k: Value(str(v), trusted=True) for k, v in rb.vars.items()}
        for key in ("service", "current_version", "target_version"):
            scope[key] = Value(str(getattr(rb, key)), trusted=True)
        session = self.console.session
        if session is not None:
            meta = session.state.meta
            for name, value in (meta.get("params") or {}).items():
                scope[name] = Value(str(value), trusted=False)
            for key in ("operator", "session", "reason"):
                if meta.get(key) is not None:
                    scope[key] = Value(str(meta[key]), trusted=False)
            if session.state.plan:
                scope["plan"] = Value(session.state.plan, trusted=True)
        return scope

    def compose(self) -> ComposeResult:
        rb = self.runbook
        yield from self.compose_top(rb)
        with VerticalScroll(id="contacts-body"):
            if rb.contacts:
                yield Static(contacts_table(rb), classes="overview-table")
            else:
                yield Static("This runbook lists no contacts.")
            scope = self.scope()
            for template in rb.templates:
                try:
                    body = render_text(template.body, scope)
                except (RenderError, KeyError) as exc:
                    body = f"{template.body}\n(cannot fill in yet: {exc})"
                head = Text(f"\n{template.title or template.id}", style="bold")
                if template.channel:
                    head.append(f"  ({template.channel})", style="dim")
                yield Static(head)
                yield Static(Text(body), classes="template-body")
        yield from self.compose_bottom()

    def action_back(self) -> None:
        if self.console.is_session_screen(self):
            self.console.action_show("plan")
        else:
            self.app.pop_screen()
