"""Escalation is due: whom to call next, in order, with phone and chat handle."""

from __future__ import annotations

from typing import Any

from screens.question import ChoiceScreen
from tui.engine.branching import contact_line


def EscalationScreen(data: dict[str, Any]) -> ChoiceScreen:
    contacts = data.get("contacts") or []
    lines = [
        f"{n}. {contact_line(c)}" + (f" — {c['duty']}" if c.get("duty") else "") for n, c in enumerate(contacts, 1)
    ]
    listing = "\n".join(lines)
    if data.get("drill"):
        title = f"DRILL — escalation would be due now: {data.get('detail', '')}"
        return ChoiceScreen(title, f"In a real incident you would call:\n{listing}", [("OK", "seen")], "seen")
    # Escape is "not now": dismissing the modal never claims that someone was called.
    options = [("Calling now", "calling"), ("Not now", "not_now")]
    return ChoiceScreen(f"Escalate now: {data.get('detail', '')}", f"Call next:\n{listing}", options, "not_now")
