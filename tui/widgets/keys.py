"""Which keys a screen offers: what the command palette and the help screen list (a binding's
tooltip when it has one: the footer's description is kept short to fit 80 columns)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.screen import Screen


def screen_bindings(screen: Screen[Any]) -> list[tuple[Any, Binding]]:
    """The screen's own bindings then the app's, one per action, with the node that runs it
    (a focused table's ``enter`` would otherwise hide the screen's ``enter``)."""
    seen: set[str] = set()
    found: list[tuple[Any, Binding]] = []
    for node in (screen, screen.app):
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                if binding.description and binding.action not in seen:
                    seen.add(binding.action)
                    found.append((node, binding))
    return found
