"""Which keys a screen offers: what the command palette and the help screen list (a binding's
tooltip when it has one: the footer's description is kept short to fit 80 columns)."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen


def declared_bindings(node: DOMNode) -> list[Binding]:
    """The bindings ``node``'s class and its bases declare in ``BINDINGS`` (Textual's public,
    declarative form), a subclass's binding for a key replacing its base's, as Textual merges them."""
    by_key: dict[str, list[Binding]] = {}
    for cls in reversed(type(node).__mro__):
        declared: dict[str, list[Binding]] = {}
        for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
            declared.setdefault(binding.key, []).append(binding)
        by_key.update(declared)
    return [binding for bindings in by_key.values() for binding in bindings]


def screen_bindings(screen: Screen[Any]) -> list[tuple[Any, Binding]]:
    """The screen's own bindings then the app's, one per action, with the node that runs it.
    Read from what the classes declare rather than from ``active_bindings``, where a focused
    table's ``enter`` would hide the screen's ``enter``."""
    seen: set[str] = set()
    found: list[tuple[Any, Binding]] = []
    for node in (screen, screen.app):
        for binding in declared_bindings(node):
            if binding.description and binding.action not in seen:
                seen.add(binding.action)
                found.append((node, binding))
    return found
