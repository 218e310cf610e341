"""Checks that span the whole runbook: ids, references, the flowchart's shape, placeholders.

They run on the raw TOML data (not the typed model) so they still report everything when some
other part of the file fails type validation: the author sees every problem in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from tui.runbook.placeholders import BUILTINS, PLACEHOLDER
from tui.runbook.positions import Path

# What looks meant as a placeholder but is not one: a name followed by a filter, call, index
# or operator, or by a single closing brace. (Go templates such as {{.Names}} start with a dot
# and stay text.)
MALFORMED = re.compile(r"\{\{\s*[A-Za-z_][A-Za-z0-9_.-]*\s*(?:[|(\[+%!,:=~]|\}(?!\})|$)")
Report = Callable[[Path, str], None]
ReportInValue = Callable[[Path, int, str], None]  # a place inside a string value: its path, an index


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _ids(items: Any, key: str) -> set[str]:
    """The string values of ``key`` across a list of tables (anything else is a type error reported elsewhere)."""
    return {value for item in _list(items) if isinstance(value := _dict(item).get(key), str)}


def iter_actions(data: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every check, step, verification and drill step, with its path."""
    for i, check in enumerate(_list(data.get("checks"))):
        yield ("checks", i), _dict(check)
    for plan_id, plan in _dict(data.get("plans")).items():
        for part in ("steps", "verify"):
            for i, step in enumerate(_list(_dict(plan).get(part))):
                yield ("plans", plan_id, part, i), _dict(step)
    for d, drill in enumerate(_list(data.get("drills"))):
        for part in ("setup", "teardown"):
            for i, step in enumerate(_list(_dict(drill).get(part))):
                yield ("drills", d, part, i), _dict(step)


def check_semantics(data: dict[str, Any], report: Report, report_in_value: ReportInValue) -> None:
    plans = set(_dict(data.get("plans")))
    hosts = set(_dict(data.get("hosts")))
    for profile in _dict(data.get("profiles")).values():
        hosts |= set(_dict(_dict(profile).get("hosts")))
    groups = _dict(data.get("groups"))
    checks = _ids(data.get("checks"), "id")
    templates = _ids(data.get("templates"), "id")
    profiles = set(_dict(data.get("profiles")))

    def ref(path: Path, value: Any, known: set[Any], what: str) -> None:
        if isinstance(value, str) and value not in known:
            names = sorted(str(k) for k in known if k)
            choices = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "") or "none defined"
            report(path, f"{what} {value!r} is not defined (known: {choices})")

    _unique(data, report)

    for i, sev in enumerate(_list(data.get("severity"))):
        ref(("severity", i, "plan"), _dict(sev).get("plan"), plans, "plan")
    for i, risk in enumerate(_list(data.get("risks"))):
        ref(("risks", i, "plan"), _dict(risk).get("plan"), plans, "plan")
    for i, row in enumerate(_list(data.get("matrix"))):
        ref(("matrix", i, "plan"), _dict(row).get("plan"), plans, "plan")
    for i, mon in enumerate(_list(data.get("monitors"))):
        ref(("monitors", i, "check"), _dict(mon).get("check"), checks, "check")
    for i, drill in enumerate(_list(data.get("drills"))):
        ref(("drills", i, "plan"), _dict(drill).get("plan"), plans, "plan")
        ref(("drills", i, "profile"), _dict(drill).get("profile"), profiles, "profile")
    for name, members in groups.items():
        for j, member in enumerate(_list(members)):
            ref(("groups", name, j), member, hosts, "host")
    _check_profiles(data, ref, hosts)
    # A checklist item is ticked by a pre-check or by a plan's verification (post-rollback lists
    # are about what holds after the plan, which is what verifications check).
    verifications = {v for plan in _dict(data.get("plans")).values() for v in _ids(_dict(plan).get("verify"), "id")}
    for part, items in _dict(data.get("checklists")).items():
        for j, item in enumerate(_list(items)):
            ref(("checklists", part, j, "check"), _dict(item).get("check"), checks | verifications, "check")

    for path, action in iter_actions(data):
        ref((*path, "host"), action.get("host"), hosts, "host")
        for j, host in enumerate(_list(action.get("hosts"))):
            ref((*path, "hosts", j), host, hosts, "host")
        ref((*path, "group"), action.get("group"), set(groups), "group")
        ref((*path, "template"), action.get("template"), templates, "template")
        ref((*path, "until"), action.get("until"), checks, "check")
        ref((*path, "sign_secret"), action.get("sign_secret"), set(_dict(data.get("secrets"))), "secret")
        if action.get("kind") == "sql" and isinstance(action.get("query"), str):
            for match in re.finditer(r"(['\"])\s*\{\{[^}]*\}\}\s*\1", action["query"]):
                report(
                    (*path, "query"),
                    f"write {match.group(0).strip(chr(39) + chr(34))} without quotes: "
                    "in SQL a placeholder is a bound parameter, never spliced text",
                )

    for name, param in _dict(data.get("params")).items():
        _regex(("params", name, "pattern"), _dict(param).get("pattern"), report)
    for path, action in iter_actions(data):
        for name, spec in _dict(action.get("capture")).items():
            if isinstance(spec, str) and spec.startswith("regex:"):
                _regex((*path, "capture", name), spec.removeprefix("regex:"), report)
        url = action.get("url")
        if action.get("kind") == "http" and isinstance(url, str) and not url.strip():
            report((*path, "url"), "url is empty")

    _check_flow(data, report, plans)
    _check_placeholders(data, report_in_value)


def _regex(path: Path, pattern: Any, report: Report) -> None:
    if isinstance(pattern, str):
        try:
            re.compile(pattern)
        except re.error as exc:
            report(path, f"invalid regular expression {pattern!r}: {exc}")


def _check_profiles(data: dict[str, Any], ref: Callable[..., None], hosts: set[str]) -> None:
    """What a profile overrides must exist: its secrets, action ids, group members and shared names."""
    actions = {i for _, a in iter_actions(data) if isinstance(i := a.get("id"), str)}
    secrets = set(_dict(data.get("secrets")))
    for pid, profile in _dict(data.get("profiles")).items():
        profile = _dict(profile)
        env = [_dict(s).get("env") for s in _dict(data.get("secrets")).values()]
        env += [a.get(key) for _, a in iter_actions(data) for key in ("dsn_env", "check_dsn_env", "webhook_env")]
        monitors = {m.get("id") for m in _list(data.get("monitors")) if isinstance(m, dict)}
        names = set(_dict(data.get("vars"))) | set(_dict(profile.get("vars"))) | hosts | actions
        names |= {name for name in monitors if isinstance(name, str)}
        names |= {name for name in env if isinstance(name, str)}
        for name in _dict(profile.get("secrets")):
            ref(("profiles", pid, "secrets", name), name, secrets, "secret")
        for name in _dict(profile.get("actions")):
            ref(("profiles", pid, "actions", name), name, actions, "check or step id")
        for name, members in _dict(profile.get("groups")).items():
            for j, member in enumerate(_list(members)):
                ref(("profiles", pid, "groups", name, j), member, hosts, "host")
        for j, name in enumerate(_list(profile.get("shared"))):
            ref(("profiles", pid, "shared", j), name, names, "var, host, check/step/monitor id or environment variable")


def _unique(data: dict[str, Any], report: Report) -> None:
    for key, field, what in (
        ("checks", "id", "check id"),
        ("risks", "id", "risk id"),
        ("templates", "id", "template id"),
        ("drills", "id", "drill id"),
        ("monitors", "id", "monitor id"),
        ("severity", "level", "severity level"),
    ):
        for path, value in _repeats([((key, i), item) for i, item in enumerate(_list(data.get(key)))], field):
            report(path, f"duplicate {what} {value!r}")
    for plan_id, plan in _dict(data.get("plans")).items():
        steps = [(("plans", plan_id, part, i), step) for part in ("steps", "verify") for i, step in _items(plan, part)]
        for path, value in _repeats(steps, "id"):
            report(path, f"duplicate step id {value!r} in plan {plan_id!r}")
    for d, drill in enumerate(_list(data.get("drills"))):
        steps = [(("drills", d, part, i), step) for part in ("setup", "teardown") for i, step in _items(drill, part)]
        for path, value in _repeats(steps, "id"):
            report(path, f"duplicate step id {value!r} in drill")


def _items(table: Any, key: str) -> list[tuple[int, Any]]:
    return list(enumerate(_list(_dict(table).get(key))))


def _repeats(items: list[tuple[Path, Any]], field: str) -> Iterator[tuple[Path, str]]:
    """The path of ``field`` in each item whose string value an earlier item already has."""
    seen: set[str] = set()
    for path, item in items:
        value = _dict(item).get(field)
        if isinstance(value, str):
            if value in seen:
                yield (*path, field), value
            seen.add(value)


def _check_flow(data: dict[str, Any], report: Report, plans: set[str]) -> None:
    flow = _dict(data.get("flow"))
    nodes = flow.get("nodes")
    if not isinstance(nodes, dict):
        return  # the type check has reported it; a graph of nothing has no shape to check
    edges: dict[str, list[str]] = {}
    known_plans = ", ".join(sorted(plans)) or "none defined"
    for node_id, node in nodes.items():
        node = _dict(node)
        targets: list[tuple[Path, Any]] = [(("flow", "nodes", node_id, "next"), node.get("next"))]
        for j, option in enumerate(_list(node.get("options"))):
            targets.append((("flow", "nodes", node_id, "options", j, "next"), _dict(option).get("next")))
        edges[node_id] = []
        for path, target in targets:
            if isinstance(target, str):
                if target in nodes:
                    edges[node_id].append(target)
                else:
                    report(path, f"flow node {target!r} is not defined")
        if isinstance(node.get("plan"), str) and node["plan"] not in plans:
            report(("flow", "nodes", node_id, "plan"), f"plan {node['plan']!r} is not defined (known: {known_plans})")
    start = flow.get("start")
    if not isinstance(start, str) or start not in nodes:
        report(("flow", "start"), f"flow start {start!r} is not a node")
        return
    reached = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), []):
            if target not in reached:
                reached.add(target)
                todo.append(target)
    for node_id in nodes:
        if node_id not in reached:
            report(("flow", "nodes", node_id), f"flow node {node_id!r} cannot be reached from {start!r}")
    leaves = {n for n, node in nodes.items() if "plan" in _dict(node) or "action" in _dict(node)}
    exits = set(leaves)
    changed = True
    while changed:
        changed = False
        for node_id, targets in edges.items():
            if node_id not in exits and any(t in exits for t in targets):
                exits.add(node_id)
                changed = True
    for node_id in sorted(reached - exits):
        if edges.get(node_id):
            report(
                ("flow", "nodes", node_id),
                f"flow node {node_id!r} is in a cycle with no way out to a plan or action",
            )


def _known_names(data: dict[str, Any]) -> set[str]:
    names = set(BUILTINS)
    names |= set(_dict(data.get("params")))
    names |= set(_dict(data.get("vars")))
    names |= set(_dict(data.get("secrets")))
    for profile in _dict(data.get("profiles")).values():
        names |= set(_dict(_dict(profile).get("vars")))
    for _, action in iter_actions(data):
        names |= set(_dict(action.get("capture")))
    return names


def _check_placeholders(data: dict[str, Any], report_in_value: ReportInValue) -> None:
    known = _known_names(data)

    def walk(value: Any, path: Path) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, (*path, i))
        elif isinstance(value, str) and "{{" in value:
            for match in PLACEHOLDER.finditer(value):
                if match.group(1) not in known:
                    report_in_value(path, match.start(), f"unknown placeholder {{{{ {match.group(1)} }}}}")
            for match in MALFORMED.finditer(value):
                if not PLACEHOLDER.match(value, match.start()):
                    report_in_value(
                        path,
                        match.start(),
                        f"malformed placeholder {match.group(0).strip()!r}: a placeholder is one name,"
                        " {{ name }}, with no filters, calls or indexes",
                    )

    walk(data, ())
