"""The rollback record, rendered from a session's journal alone (Markdown and JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from tui.engine.events import Event
from tui.record.build import build
from tui.record.json_record import as_json
from tui.record.markdown import render


def render_markdown(events: Iterable[Event], *, live: bool = False) -> str:
    """The Markdown record. ``live``: the session is running right now (an unfinished step
    is "running", not "outcome unknown")."""
    return render(build(events, live=live))


def render_json(events: Iterable[Event], *, live: bool = False) -> str:
    """The JSON record: ``schema_version`` and RFC 3339 times (``rbconsole schema --record``)."""
    return json.dumps(as_json(build(events, live=live)), ensure_ascii=False, indent=2) + "\n"


__all__ = ["build", "render_json", "render_markdown"]
