"""A Markdown rollback document as a runbook (a dict ready for TOML) and a coverage report.

Every imported step names the line it came from and every command that changes something asks
before it runs (``confirm = true``): an import is a draft to review, never something to run blind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.importer import sections as parts
from tui.importer.captures import distinct_captures
from tui.importer.coverage import UNPLACED, Coverage, unplaced
from tui.importer.decisions import WHEN, decisions, table_monitors
from tui.importer.flowchart import parse_chart, to_flow
from tui.importer.literals import literal_vars
from tui.importer.markdown import Section, field_value, labelled, parse, safe
from tui.importer.plans import Found, Unit, build_plan, find, plan_key, plan_title, steps_of
from tui.importer.steps import Context, placeholder


@dataclass
class Imported:
    runbook: dict[str, Any]
    coverage: Coverage
    notes: list[str] = field(default_factory=list)


def build(text: str, source: str) -> Imported:
    root = parse(text)
    sections = root.walk()[1:]
    title = next((s.title for s in sections if s.level == 1), "") or Path(source).stem
    ident = _slug(title) or _slug(Path(source).stem) or "imported"
    facts = _facts(root)
    ctx = Context(source=source, dsn_env=_dsn_env(text), mysql=_mysql(text))
    ctx.target_version = facts.get("target_version", "")
    found = find(root)
    checks = steps_of([s for c in found.checks for s in c.walk()], ctx, check=True)
    for n, check in enumerate(checks, 1):
        check["id"] = f"check-{n}"
    everywhere = steps_of([s for v in found.verify for s in v.walk()], ctx, check=True, verify=True)
    plans, risks = _plans(found, sections, ctx, everywhere)
    distinct_captures(checks, plans, {"reason", *ctx.params, *ctx.secrets})
    _when_to_roll_back(sections, plans)
    matrix = parts.matrix(sections, plans)
    prose_levels, prose_monitors = decisions(sections)
    levels = parts.severity(sections, plans) or parts.matrix_levels(matrix, plans) or _with_plan(prose_levels, plans)
    choices = _choices(found, plans)
    flow, chart_line, chart_unread = _chart_flow(root, plans, choices)
    flow = flow or parts.flow(levels, choices)
    runbook: dict[str, Any] = {
        "schema": 1,
        "id": ident,
        "title": safe(title),
        "service": ident,
        "summary": _summary(sections),
        "owner": facts.get("owner", ""),
        "current_version": facts.get("current_version", ""),
        "target_version": facts.get("target_version", ""),
        "document_version": facts.get("document_version", ""),
        "updated": facts.get("updated", ""),
        "principles": [
            safe(b.text)
            for s in sections
            if re.search("原则|principle", s.title, re.I)
            for b in s.blocks
            if b.kind == "bullet"
        ],
        "params": {"reason": {"prompt": "回滚原因 / why roll back?", "required": True}, **ctx.params},
        "vars": {},  # filled below, from the http steps' base URLs
        "secrets": dict(sorted(ctx.secrets.items())),
        "hosts": ctx.hosts,
        "severity": levels,
        "risks": risks,
        "matrix": matrix,
        "flow": flow,
        "checks": checks,
        "plans": plans,
        "checklists": parts.checklists(sections),
        "monitors": _monitors([parts.monitors(sections), table_monitors(sections), prose_monitors], levels),
        "contacts": parts.contacts(sections),
        "templates": parts.templates(sections),
        "record": parts.record(sections),
        "appendix": parts.appendix(sections),
    }
    coverage = Coverage.of(root, ctx.outcomes)
    coverage.rewritten = dict(ctx.rewrites)
    for section in found.reference:
        coverage.reference(section)
    runbook["vars"] = _url_vars(runbook, _names(runbook))  # never a name a capture already has
    stated = {v: k for k in ("target_version", "current_version") if (v := runbook[k])}
    urls = {base: name for name, base in runbook["vars"].items()}
    runbook["vars"].update(literal_vars(_actions(runbook), {*runbook["vars"], *_names(runbook)}, stated, urls))
    runbook = {key: value for key, value in runbook.items() if value not in ("", [], {}, None)}
    # what found no home goes to the appendix, by source line, and the report says so
    everything = "\n".join(_strings(finish(runbook)))
    headings = "".join(s.title for s in sections)
    left = [u for u in unplaced(root, everything + headings) if u[0] != chart_line]
    left = sorted([*left, *chart_unread], key=lambda u: u[0])  # what of the flowchart did not read, kept
    coverage.homeless = [(line, text) for line, text, _ in left]
    coverage.chart_unread = [(line, text) for line, text, _ in chart_unread]
    if left:
        parts_by_section: list[str] = []
        last = None
        for line, text, heading in left:
            if heading != last:
                parts_by_section.append(f"## {heading or source}")
                last = heading
            parts_by_section.append(f"{text}  ({source}:{line})")
        body = safe("\n".join(parts_by_section))
        runbook.setdefault("appendix", []).append({"title": UNPLACED, "body": body})
    return Imported(runbook, coverage)


def _when_to_roll_back(sections: list[Section], plans: dict[str, Any]) -> None:
    """A document-wide "when to roll back" list is when each plan applies (unless it says its own)."""
    for section in sections:
        if WHEN.search(section.title) and not section.children:
            when = [safe(b.text) for b in section.blocks if b.kind in ("bullet", "numbered") and b.depth == 0]
            for plan in plans.values():
                if when and "when" not in plan:
                    plan["when"] = when
            return


def _with_plan(levels: list[dict[str, Any]], plans: dict[str, Any]) -> list[dict[str, Any]]:
    """Levels read from prose: a rollback level leads to the one plan (with several, the flowchart asks)."""
    for level in levels:
        if level["action"] == "rollback" and len(plans) == 1:
            level["plan"] = next(iter(plans))
    return levels


def _monitors(lists: list[list[dict[str, Any]]], levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Monitors from threshold lists, tables and the decision section, each once; a severity only
    where the runbook has that level."""
    known = {level["level"] for level in levels}
    monitors: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for monitor in (m for group in lists for m in group):
        key = (monitor["metric"].lower(), monitor["condition"])
        if key in seen:
            continue
        seen.add(key)
        if monitor.get("severity") and monitor["severity"] not in known:
            del monitor["severity"]
        monitors.append({**monitor, "id": f"monitor-{len(monitors) + 1}"})
    return monitors


def _actions(runbook: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *runbook["checks"],
        *(s for p in runbook["plans"].values() for s in (*p["steps"], *p.get("verify", []))),
    ]


def _names(runbook: dict[str, Any]) -> set[str]:
    """Every name the runbook's placeholders already use (params, secrets, captured values)."""
    used = re.findall("\x00([A-Za-z0-9_]+)\x00", "\n".join(_strings([runbook["plans"], runbook["checks"]])))
    return {*runbook["params"], *runbook["secrets"], *used}


def _chart_flow(
    root: Section, plans: dict[str, Any], choices: list[tuple[str, str]]
) -> tuple[dict[str, Any] | None, int, list[tuple[int, str, str]]]:
    """The document's own ASCII flowchart (or decision tree) as the flowchart, when one reads as a
    graph that leads to a plan; its source line (it is placed there); the parts of it that did
    not read, by source line (with the heading they sit under)."""
    titles = {key: plan["title"] for key, plan in plans.items()}
    for section in root.walk():
        for block in section.blocks:
            if block.kind != "code" or block.lang not in ("", "text", "txt", "plain", "mermaid-ascii"):
                continue
            graph = parse_chart(block.text)
            chart = to_flow(graph, titles, bool(choices)) if graph else None
            if chart is None:
                continue
            nodes: dict[str, Any] = {
                k: {f: safe(v) if isinstance(v, str) else v for f, v in n.items()}
                for k, n in chart.flow["nodes"].items()
            }
            for node in nodes.values():
                for option in node.get("options", []):
                    option["label"] = safe(option["label"])
            if any(n.get("next") == "choose" for n in nodes.values()):
                nodes.update(parts.flow([], choices)["nodes"])
            unread = [(block.line + row, safe(text), section.title) for row, text in chart.unread]
            return {"start": chart.flow["start"], "nodes": nodes}, block.line, unread
    return None, 0, []


def _choices(found: Found, plans: dict[str, Any]) -> list[tuple[str, str]]:
    """The plans the flowchart asks to choose between: the document's alternatives, else every plan."""
    keys = {id(p["_unit"]): k for k, p in plans.items()}
    for group in found.choices:
        chosen = [(keys[id(u)], plans[keys[id(u)]]["title"]) for u in group if id(u) in keys]
        if len(chosen) >= 2:
            return chosen
    return [(k, p["title"]) for k, p in plans.items()] if len(plans) >= 2 else []


# --- facts and words ---------------------------------------------------------------------------


def _facts(root: Section) -> dict[str, str]:
    labels = {
        "current_version": ("当前版本", "Current version"),
        "target_version": ("回滚目标", "目标版本", "Target version", "Rollback target"),
        "document_version": ("文档版本", "版本", "Version"),
        "updated": ("最后更新", "创建时间", "创建日期", "日期", "Last updated", "Updated"),
        "owner": ("责任人", "责任团队", "维护团队", "Owner"),
    }
    found: dict[str, str] = {}
    for block in root.all_blocks():
        if block.kind in ("paragraph", "bullet"):
            for key, names in labels.items():
                value = field_value(block.text, *names)
                if value and key not in found:
                    found[key] = safe(value)[:200]
    return found


# a "Label: value" line (a fact such as "Current version: 1.4.2"), not a sentence that sums up
_LABELLED = re.compile(r"^[^:：]{1,12}[:：]|^[^:：.。]{1,30}[:：]\s*\S{1,40}$")


def _summary(sections: list[Section]) -> str:
    for section in sections[:6]:
        for block in section.blocks:
            if block.kind == "paragraph" and len(block.text) > 15 and not _LABELLED.match(block.text):
                return safe(block.text)
    return ""


def _dsn_env(text: str) -> str:
    """The environment variable the document's ``psql $NAME`` lines read the DSN from."""
    match = re.search(r"\b(?:psql|pg_dump|pg_restore)\b[^\n]*?\$\{?([A-Z_][A-Z0-9_]*)", text)
    return match.group(1) if match else "DATABASE_URL"


def _mysql(text: str) -> bool:
    return bool(re.search(r"\bmysql\b", text, re.I)) and not re.search(
        r"\b(psql|postgres|postgresql|pg_dump)\b", text, re.I
    )


# --- plans -------------------------------------------------------------------------------------


def _plans(
    found: Found, sections: list[Section], ctx: Context, everywhere: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    plans: dict[str, Any] = {}
    risks: list[dict[str, Any]] = []
    for unit in found.units:
        risk = _risk(unit.head, len(risks) + 1)
        key = plan_key(unit, plans, risk and risk["id"])
        plan = build_plan(unit, ctx, everywhere)
        if risk:
            risks.append(risk)
            plan["title"] = safe(f"{plan_title(unit)}：回滚")
            risk["plan"] = key
        if plan["steps"]:
            plans[key] = {**plan, "_unit": unit}
        elif risk:
            del risk["plan"]
    for section in sections:  # risks without commands of their own are still in the register
        if _risk_fields(section) and not any(r["_section"] is section for r in risks):
            risk = _risk(section, len(risks) + 1)
            assert risk is not None
            risks.append(risk)
    risks.sort(key=lambda r: r["_section"].line)
    for n, risk in enumerate(risks, 1):
        risk["id"] = f"risk-{n}"
    if not plans:
        step = {
            "id": "s1",
            "title": "写下回滚步骤",
            "kind": "manual",
            "instruction": f"{ctx.source} 中没有找到回滚命令：请补充。",
        }
        plans["A"] = {"title": "回滚", "steps": [step], "_unit": Unit(Section("", 0, 1))}
    return plans, risks


def _risk_fields(section: Section) -> bool:
    return any(field_value(b.text, "风险描述") for b in section.blocks)


def _risk(section: Section, n: int) -> dict[str, Any] | None:
    description = next((v for b in section.blocks if (v := field_value(b.text, "风险描述"))), None)
    if description is None:
        return None
    levels = " ".join(a.title for a in section.ancestors())
    level = "high" if "高" in levels else "low" if "低" in levels else "medium"
    name = re.sub(r"^\d+[.)、]\s*", "", section.title)
    fields = {
        k: next((v for b in section.blocks if (v := field_value(b.text, label))), "")
        for k, label in (("scope", "影响范围"), ("probability", "发生概率"), ("impact", "影响程度"))
    }
    risk: dict[str, Any] = {"id": f"risk-{n}", "level": level, "title": safe(name), "description": safe(description)}
    risk.update({k: safe(v) for k, v in fields.items() if v})
    risk["prevention"] = [safe(b.text) for b in labelled(section, "预防措施")]
    risk["_section"] = section
    return risk


def finish(runbook: dict[str, Any]) -> dict[str, Any]:
    """The runbook without the importer's own bookkeeping keys and with its placeholders spelt
    out, ready for TOML."""
    out = dict(runbook)
    out["plans"] = {k: {f: v for f, v in p.items() if f != "_unit"} for k, p in runbook["plans"].items()}
    if "risks" in out:
        out["risks"] = [{f: v for f, v in r.items() if f != "_section"} for r in runbook["risks"]]
    return _spelt(out)


def _spelt(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub("\x00([A-Za-z0-9_]+)\x00", lambda m: "{{ " + m.group(1) + " }}", value)
    if isinstance(value, dict):
        return {k: _spelt(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_spelt(v) for v in value]
    return value


_BASE = re.compile(r"^(https?://[A-Za-z0-9.-]+(?::\d{1,5})?)(?=/|$)")


def _url_vars(runbook: dict[str, Any], taken: set[str]) -> dict[str, str]:
    """A base URL that two or more http steps of the document use becomes a var (``{{ api }}/health``),
    so a profile or ``--var`` can point the whole runbook elsewhere."""
    actions = _actions(runbook)
    http = [(a, m.group(1)) for a in actions if a.get("kind") == "http" and (m := _BASE.match(a["url"]))]
    lines: dict[str, set[str]] = {}
    for action, base in http:
        lines.setdefault(base, set()).add(action["notes"])
    names: dict[str, str] = {}
    for base, where in lines.items():
        if len(where) < 2:
            continue
        host = base.split("://", 1)[1].split(":")[0]
        first = re.sub(r"[^a-z0-9]+", "_", host.split(".")[0].lower()).strip("_")
        name = first if first and first not in ("www",) else re.sub(r"[^a-z0-9]+", "_", host.lower())
        if name in taken or name in names.values() or not re.match(r"^[a-z]", name):
            name = "url_" + re.sub(r"[^a-z0-9]+", "_", host.lower()).strip("_")
        names[base] = name
    for action, base in http:
        if base in names:
            action["url"] = placeholder(names[base]) + action["url"][len(base) :]
    return {name: base for base, name in names.items()}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    return slug if re.match(r"^[a-z0-9]", slug) else ""
