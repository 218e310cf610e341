"""What the record's own sections are made of, journaled with ``session_started``.

The record is rendered from the journal alone (:mod:`tui.record.build`), so what the runbook
says the record holds is put into the journal when the session starts, as a
:class:`RecordSource`: the ``[record]`` title, sections and retrospective with the values known
at the start filled in, the ``[record.fields]`` split into parts (the values only the run will
capture are filled from the journal later), and the checklists. A runbook edited afterwards
cannot change what this session's record says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from tui.runbook.model import Runbook
from tui.runbook.placeholders import PLACEHOLDER, Value

CHECKLISTS = ("pre", "during", "post", "followup")


class RecordSpecData(TypedDict, total=False):
    title: str
    sections: list[dict[str, str]]  # {"title", "body"}
    retrospective: list[dict[str, str]]
    fields: dict[str, list[list[str]]]  # label -> ["text", s] / ["value", s] / ["later", name] parts


class RecordSource(TypedDict):
    """The part of ``session_started`` the record's own sections come from."""

    record: RecordSpecData
    checklists: dict[str, list[Any]]  # list name -> items (a string, or a dumped ChecklistItem)


def record_source(runbook: Runbook, scope: Mapping[str, Value]) -> RecordSource:
    """The runbook's record texts and checklists as this session journals them at its start."""
    spec = _fill_known(runbook.record.model_dump(exclude={"fields"}), scope)
    assert isinstance(spec, dict)
    return {
        "record": {**spec, "fields": _field_parts(runbook.record.fields, scope)},  # type: ignore[typeddict-item]
        "checklists": {
            name: [item if isinstance(item, str) else item.model_dump() for item in getattr(runbook.checklists, name)]
            for name in CHECKLISTS
        },
    }


def journaled_source(started: Mapping[str, Any]) -> RecordSource:
    """The :class:`RecordSource` a ``session_started`` payload carries (empty parts when absent)."""
    return {"record": started.get("record") or {}, "checklists": started.get("checklists") or {}}


def _field_parts(fields: dict[str, str], scope: Mapping[str, Value]) -> dict[str, list[list[str]]]:
    """Each ``[record.fields]`` value split into the author's text, the values known now, and
    the names only the run will fill (``["text", ...]``, ``["value", ...]``, ``["later", name]``):
    the record fills the later ones from the journal, and a value is never read again as a
    template (an operator's "{{ x }}" stays those characters)."""
    out: dict[str, list[list[str]]] = {}
    for label, text in fields.items():
        parts: list[list[str]] = []
        end = 0
        for match in PLACEHOLDER.finditer(text):
            parts.append(["text", text[end : match.start()]])
            name = match.group(1)
            parts.append(["value", scope[name].text] if name in scope else ["later", name])
            end = match.end()
        parts.append(["text", text[end:]])
        out[label] = [p for p in parts if p[0] != "text" or p[1]]
    return out


def _fill_known(data: object, scope: Mapping[str, Value]) -> object:
    """The record's own texts with the values known at start filled in; a value captured later
    keeps its placeholder (the journal states what was known when, and secrets are masked
    on the way in)."""
    if isinstance(data, str):
        return PLACEHOLDER.sub(lambda m: scope[m.group(1)].text if m.group(1) in scope else m.group(0), data)
    if isinstance(data, list):
        return [_fill_known(item, scope) for item in data]
    if isinstance(data, dict):
        return {key: _fill_known(item, scope) for key, item in data.items()}
    return data
