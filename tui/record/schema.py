"""The JSON Schema of the exported record (``rbconsole schema --record``), schema_version 1.

The record's top level, its ``basic`` table and each check / step row are closed
(``additionalProperties: false``): a key added to the record without a line here fails the test
that validates a real run's export against this schema, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from tui.record.json_record import SCHEMA_VERSION

SCHEMA_ID = f"https://rbconsole.dev/schema/record-{SCHEMA_VERSION}.json"
# RFC 3339 date-time with a numeric offset or Z (what the format checker also checks, when installed).
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"

Schema = dict[str, Any]


def _s(description: str) -> Schema:
    return {"type": "string", "description": description}


def _opt(kind: str | list[str], description: str) -> Schema:
    kinds = [kind] if isinstance(kind, str) else kind
    return {"type": [*kinds, "null"], "description": description}


def _time(description: str) -> Schema:
    return {
        "anyOf": [{"type": "string", "format": "date-time", "pattern": RFC3339}, {"type": "null"}],
        "description": description + " (RFC 3339, local time with its UTC offset; null if not known)",
    }


def _closed(properties: dict[str, Schema], description: str) -> Schema:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": sorted(properties),
        "additionalProperties": False,
    }


def _list(items: Schema, description: str) -> Schema:
    return {"type": "array", "items": items, "description": description}


def _map(values: Schema, description: str) -> Schema:
    return {"type": "object", "additionalProperties": values, "description": description}


_HOST = {
    "type": "object",
    "description": "one host's part of a fanned-out action",
    "properties": {
        "status": _s("the host's outcome"),
        "exit_status": _opt("integer", "the command's exit status"),
        "detail": _s("why, in one line"),
        "started": _time("when it started on this host"),
        "duration": _opt("number", "seconds it took"),
    },
}

_ATTEMPT = {
    "type": "object",
    "description": "one attempt of a retried action",
    "properties": {
        "attempt": _opt("integer", "1 for the first"),
        "status": _opt("string", "its outcome"),
        "detail": _opt("string", "why, in one line"),
        "started": _time("when it started"),
        "duration": _opt("number", "seconds it took"),
        "exit_status": _opt("integer", "the exit status"),
    },
}

_ROW = _closed(
    {
        "index": {"type": "integer", "minimum": 1, "description": "its place in the plan or list, from 1"},
        "id": _s("the check's or step's id"),
        "title": _s("its title"),
        "kind": _s("its kind (ssh, local, http, sql, git, manual, notify, wait, prometheus)"),
        "status": _s("its outcome: ok, failed, timeout, aborted, unknown, error, skipped, declined, ... or 'not run'"),
        "attempts": {"type": "integer", "minimum": 0, "description": "how many times it ran"},
        "started": _time("when its last attempt started"),
        "duration": _opt("number", "seconds its last attempt took"),
        "exit_status": _opt("integer", "its last exit status"),
        "where": _s("where it ran (hosts, URL, database)"),
        "detail": _s("why it ended so, in one line"),
        "severity": _s("a pre-check's severity: blocking or warning"),
        "hosts": _map(_HOST, "per host, for actions that ran on several"),
        "excerpt": _map({"type": "string"}, "per host: the end of its output"),
        "captured": _map({"type": "string"}, "values it captured, by name"),
        "summary": _s("what it found, in a few words"),
        "readings": _list({"type": "object"}, "a metric check's series and values"),
        "drift": _opt("object", "how far its duration drifted from earlier drills"),
        "resolved": _opt("string", "how an outcome lost with the process was answered"),
        "interrupted": _list({"type": ["object", "string"]}, "attempts a dead process cut off"),
        "history": _list(_ATTEMPT, "every attempt, oldest first"),
    },
    "one check, step or verification",
)

_BASIC = _closed(
    {
        "runbook": _s("the runbook's title"),
        "runbook_id": _s("the runbook's id"),
        "runbook_path": _s("the runbook file the session ran"),
        "service": _s("the service rolled back"),
        "version_from": _s("the version that was running (current_version)"),
        "version_to": _s("the version the plan leaves running"),
        "version_of_plan": {"type": "boolean", "description": "version_to is the plan's own target_version"},
        "version_running": _opt("object", "the version a step or verification saw running at the end"),
        "plan": _opt("string", "the plan's id"),
        "plan_title": _s("the plan's title"),
        "recommended_plan": _opt("string", "the plan triage recommended"),
        "plan_reason": _s("why this plan was chosen"),
        "target_minutes": _opt("number", "the plan's target time"),
        "operator": _s("who ran the session"),
        "started": _time("when the session started"),
        "ended": _time("when it ended"),
        "duration": _opt("number", "seconds from start to end"),
        "plan_seconds": _opt("number", "seconds the plan's steps took"),
        "mode": {"enum": ["live", "drill"], "description": "live or drill"},
        "mode_label": _s("the mode as the record states it (LIVE, DRILL, DRY RUN, ...)"),
        "scenario": _opt("string", "a drill's scenario id"),
        "profile": _opt("string", "the profile the session ran under"),
        "dry_run": {"type": "boolean", "description": "nothing was run"},
        "yes": {"type": "boolean", "description": "--yes answered confirmations"},
        "yes_answers": {"type": "integer", "minimum": 0, "description": "how many --yes answered"},
        "severity": _opt("string", "the incident's severity level"),
        "params": _map({}, "the params the session started with (secrets never)"),
        "resumed": _list(
            {
                "type": "object",
                "properties": {
                    "time": _time("when"),
                    "operator": _opt("string", "who"),
                    "host": _opt("string", "on which machine"),
                },
            },
            "each time the session was resumed",
        ),
    },
    "the record's basic information",
)


def record_schema() -> Schema:
    actions = _list(_ROW, "")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"rbconsole rollback record (schema_version {SCHEMA_VERSION})",
        **_closed(
            {
                "schema_version": {"const": SCHEMA_VERSION, "description": "the shape of this document"},
                "final": {"type": "boolean", "description": "the session has ended: this is the final record"},
                "notice": _s("why the record is not final, when it is not"),
                "title": _s("the runbook's record title"),
                "session": _s("the session id"),
                "basic": _BASIC,
                "reason": _s("why the rollback happened"),
                "triage": _list({"type": "object"}, "the flowchart's questions and the answers given"),
                "triage_result": _opt(["string", "object"], "where triage ended"),
                "prechecks": {**actions, "description": "the pre-checks"},
                "overrides": _map({"type": "string"}, "failed blocking pre-checks gone past: id -> reason"),
                "overridden_by": _map({"type": "string"}, "who overrode each"),
                "steps": {**actions, "description": "the plan's steps"},
                "drift": _list({"type": "object"}, "steps whose duration drifted from earlier drills"),
                "drift_baselines": {"type": "integer", "minimum": 0, "description": "earlier drills compared"},
                "setup": {**actions, "description": "a drill scenario's setup steps"},
                "teardown": {**actions, "description": "a drill scenario's teardown steps"},
                "verification": {**actions, "description": "the plan's verifications"},
                "confirmations": _list(
                    {
                        "type": "object",
                        "properties": {
                            "id": _opt("string", "the step"),
                            "question": _opt("string", "what was asked"),
                            "answer": _opt("string", "the answer"),
                            "by": _opt("string", "who answered (or --yes)"),
                            "time": _time("when"),
                        },
                    },
                    "questions the operator answered",
                ),
                "checklists": _map(
                    _list(
                        {
                            "type": "object",
                            "properties": {
                                "text": _s("the item"),
                                "ticked": {"type": "boolean", "description": "ticked at the end"},
                                "by": _s("who ticked it (or the check)"),
                                "ts": _time("when it was ticked"),
                            },
                        },
                        "",
                    ),
                    "each checklist (pre, during, post, followup) with its items",
                ),
                "monitors": _list(
                    {
                        "type": "object",
                        "properties": {"time": _time("when they were read"), "at": _opt("string", "start or end")},
                    },
                    "monitor readings",
                ),
                "result": _s("how the session ended: success, failed, aborted, interrupted, dry_run, running"),
                "result_label": _s("the result as the record states it"),
                "end_reason": _opt("string", "why it ended so"),
                "timeline": _list(
                    {
                        "type": "object",
                        "properties": {
                            "ts": _time("when"),
                            "time": _time("when (the same moment)"),
                            "event": _s("the journal event"),
                            "text": _s("what happened"),
                        },
                    },
                    "everything that happened, in order",
                ),
                "notes": _list(
                    {"type": "object", "properties": {"time": _time("when"), "by": _s("who"), "text": _s("the note")}},
                    "the operator's notes",
                ),
                "warnings": _list({"type": "string"}, "what went wrong around the session (journal, disk)"),
                "journal_failed": _s("why the journal could not be written ('' when it was)"),
                "journaled": _opt("integer", "how many events reached the disk, when the journal failed"),
                "sections": _list({"type": "object"}, "the runbook's record sections"),
                "fields": _list(
                    {
                        "type": "object",
                        "properties": {
                            "label": _s("the field's label"),
                            "value": _s("its value ('' when unknown)"),
                            "missing": _list({"type": "string"}, "the placeholders the run never filled"),
                        },
                    },
                    "[record.fields] filled from the run",
                ),
                "retrospective": _list({"type": "object"}, "retrospective sections for the post-mortem"),
                "events": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "journaled events the record was built from",
                },
            },
            "a rollback record, built from a session's journal alone",
        ),
    }
