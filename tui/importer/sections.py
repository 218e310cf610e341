"""The parts of an imported runbook besides its plans: triage (severity levels, flowchart, decision
matrix), checklists, contacts, notification and record templates, and the durations they mention."""

from __future__ import annotations

import re
from typing import Any

from tui.importer.markdown import Section, field_value, safe
from tui.importer.shell import SHELL

_LEVEL = re.compile(r"\bP([0-4])\b")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(分钟|min(?:ute)?s?|m\b|小时|hours?|h\b|秒|s\b|天|days?|d\b)", re.IGNORECASE)
_UNIT = {
    "分": "m",
    "mi": "m",
    "m": "m",
    "小": "h",
    "ho": "h",
    "h": "h",
    "秒": "s",
    "s": "s",
    "天": "d",
    "da": "d",
    "d": "d",
}


def minutes(text: str) -> float | None:
    """The upper bound of "<10 分钟", "(0-15分钟)", "(15分钟-2小时)" in minutes."""
    found = [float(n) * {"m": 1, "h": 60, "s": 1 / 60, "d": 1440}[_unit(u)] for n, u in _DURATION.findall(text)]
    if re.search(r"\d+\s*[-–~]\s*\d+\s*(分钟|小时)", text):
        bare = re.search(r"(\d+)\s*[-–~]\s*(\d+)\s*(分钟|小时)", text)
        assert bare is not None
        found.append(float(bare.group(2)) * (60 if bare.group(3) == "小时" else 1))
    return max(found) if found else None


def _unit(word: str) -> str:
    return _UNIT.get(word[:2].lower(), _UNIT.get(word[:1].lower(), "m"))


def duration(text: str) -> str:
    match = _DURATION.search(text)
    return f"{match.group(1)}{_unit(match.group(2))}" if match else ""


# --- triage ------------------------------------------------------------------------------------


def severity(sections: list[Section], plans: dict[str, Any]) -> list[dict[str, Any]]:
    levels: list[dict[str, Any]] = []
    for section in sections:
        trigger = section.parent is not None and re.search("触发|trigger", section.parent.title, re.I)
        conditions = [b for b in section.blocks if b.kind == "bullet" and b.depth == 0]
        if not (_LEVEL.search(section.title) or (trigger and conditions)) or section.level == 1:
            continue
        match = _LEVEL.search(section.title)
        level = f"P{match.group(1)}" if match else f"P{len(levels)}"
        if any(existing["level"] == level for existing in levels):
            continue
        paren = re.search(r"[（(](.+?)[)）]", section.title)
        name = paren.group(1) if paren else re.sub(r"^[\d.]+\s*", "", section.title)
        action = (
            "pause"
            if re.search("暂停|评估|pause|evaluat", name, re.I)
            else "observe"
            if re.search("观察|observe", name, re.I)
            else "rollback"
        )
        entry: dict[str, Any] = {
            "level": level,
            "name": safe(name),
            "conditions": [safe(b.text) for b in conditions],
            "action": action,
        }
        for block in section.blocks:
            if decider := field_value(block.text, "决策人", "Decider"):
                entry["decider"] = safe(decider)
            if (within := field_value(block.text, "响应时间", "Respond within")) and duration(within):
                entry["respond_within"] = duration(within)
        if action == "rollback" and len(plans) == 1:
            entry["plan"] = next(iter(plans))  # with several, the flowchart asks which one
        levels.append(entry)
    return levels


def flow(severity: list[dict[str, Any]], choices: list[tuple[str, str]]) -> dict[str, Any]:
    """Severity levels as the first question; with several plans, a node that asks which one."""
    nodes: dict[str, Any] = {}
    if choices:
        nodes["choose"] = {
            "text": "选择回滚方案 / choose a plan",
            "ask": "文档给出了几种方案，用哪一种？ / The document offers several plans: which one?",
            "options": [{"label": safe(f"{key}: {title}"), "next": f"go-{key}"} for key, title in choices],
        }
        for key, title in choices:
            nodes[f"go-{key}"] = {"text": safe(title), "plan": key}
    if not severity:
        return {"start": "choose", "nodes": nodes} if nodes else {}
    nodes["found"] = {"text": "发现问题", "next": "level"}
    nodes["level"] = {"text": "问题分级", "ask": "问题属于哪一级？", "options": []}
    for entry in severity:
        node = f"level-{entry['level'].lower()}"
        nodes["level"]["options"].append({"label": f"{entry['level']} {entry['name']}", "next": node})
        leaf: dict[str, Any] = {"text": entry["name"] or entry["level"]}
        if entry.get("plan"):
            leaf["plan"] = entry["plan"]
        elif entry["action"] == "rollback" and choices:
            leaf["next"] = "choose"
        else:
            leaf["action"] = "pause" if entry["action"] == "pause" else "observe"
        nodes[node] = leaf
    return {"start": "found", "nodes": nodes}


_THRESHOLD = re.compile(
    r"^(?P<metric>[^<>≤≥=:：]{1,40}?)\s*[:：]?\s*(?P<op><=|>=|<|>|≤|≥)\s*(?P<value>\d+(?:\.\d+)?\s*(?:%|ms|s|秒|分钟|毫秒|qps|rps)?)",
    re.IGNORECASE,
)
_MONITORING = re.compile("监控|阈值|指标|告警|monitor|threshold|metric|alert|KPI|SLO", re.IGNORECASE)


def monitors(sections: list[Section]) -> list[dict[str, Any]]:
    """Threshold lists ("错误率 < 1%") under a monitoring heading, as ``[[monitors]]``."""
    found: list[dict[str, Any]] = []
    for section in sections:
        titles = [section.title, *(a.title for a in section.ancestors())]
        if not any(_MONITORING.search(t) for t in titles):
            continue
        above: dict[int, str] = {}  # the list item each depth sits under
        for block in section.blocks:
            if block.kind not in ("bullet", "check", "numbered"):
                continue
            above[block.depth] = block.text
            match = None
            if block.depth and (parent := above.get(block.depth - 1)) and not _THRESHOLD.match(parent):
                # "- Latency:" / "  - p99 < 800ms": the item it sits under says what is measured
                head = re.sub(r"[:：]\s*$", "", parent)
                match = _THRESHOLD.match(f"{head} {block.text}")
            match = match or _THRESHOLD.match(block.text)
            if not match:
                continue
            op = {"≤": "<=", "≥": ">="}.get(match.group("op"), match.group("op"))
            found.append(
                {
                    "id": f"monitor-{len(found) + 1}",
                    "title": safe(block.text),
                    "metric": safe(match.group("metric").strip()),
                    "condition": safe(f"{op} {match.group('value').strip()}"),
                }
            )
    return found


def matrix_levels(rows: list[dict[str, Any]], plans: dict[str, Any]) -> list[dict[str, Any]]:
    """Severity levels read from a decision table whose level column says P0/P1/… (used when no
    heading names them): each level's conditions are its rows' situations, its action what they do."""
    levels: dict[str, dict[str, Any]] = {}
    for row in rows:
        match = _LEVEL.search(row.get("level", ""))
        if not match or not row.get("situation"):
            continue
        level = levels.setdefault(f"P{match.group(1)}", {"level": f"P{match.group(1)}", "conditions": [], "_do": []})
        level["conditions"].append(row["situation"])
        level["_do"].append(row.get("strategy", ""))
    found = []
    for key in sorted(levels):
        entry = levels.pop(key)
        does = list(dict.fromkeys(d for d in entry.pop("_do") if d))
        doing = " ".join(does)
        if re.search("暂停|评估|先|pause|hold|first", doing, re.I):
            entry["action"] = "pause"  # "scale first, then roll back": not a rollback yet
        elif re.search("回滚|rollback|roll back", doing, re.I):
            entry["action"] = "rollback"
        else:
            entry["action"] = "observe"
        entry["name"] = safe(" / ".join(does) or key)
        if entry["action"] == "rollback" and len(plans) == 1:
            entry["plan"] = next(iter(plans))
        found.append(entry)
    return found


_COLUMNS = {
    "level": "风险等级|严重程度|级别|level|severity",
    "scope": "影响范围|scope",
    "situation": "情况|场景|situation|metric|threshold|指标|阈值",
    "strategy": "策略|回滚类型|处理方式|strategy|^action$",
    "within": "时间|window|within",
    "owner": "负责人|owner",
}


def matrix(sections: list[Section], plans: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for block in (b for s in sections for b in s.blocks if b.kind == "table"):
        header = block.rows[0]
        if not any(re.search(_COLUMNS["strategy"], h, re.I) for h in header):
            continue
        for cells in block.rows[1:]:
            row: dict[str, Any] = {}
            for h, cell in zip(header, cells, strict=False):
                key = next((k for k, rx in _COLUMNS.items() if re.search(rx, h, re.I)), None)
                if key and cell:
                    row[key] = f"{row[key]} {safe(cell)}" if key in row else safe(cell)
            plan = next(
                (pid for pid, p in plans.items() if row.get("strategy") and p["title"].endswith(row["strategy"])), None
            )
            if plan:
                row["plan"] = plan
            rows.append(row)
    return rows


# --- checklists, people, words -------------------------------------------------------------------

_BUCKETS = (
    ("followup", "复盘|后续|follow|改进|short-term|long-term|retro|RCA|post-?mortem"),
    ("during", "回滚中|during"),
    ("pre", "回滚前|前检查|事前|准备|before|pre-|prerequisite|preparation|pre-?flight"),
)


def checklists(sections: list[Section]) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {}
    for section in sections:
        titles = [section.title, *(a.title for a in section.ancestors())]
        bucket = next((name for t in titles for name, rx in _BUCKETS if re.search(rx, t, re.I)), "post")
        for block in section.blocks:
            if block.kind == "check" and safe(block.text) not in lists.setdefault(bucket, []):
                lists[bucket].append(safe(block.text))
    return {k: v for k, v in lists.items() if v}


_CONTACT_COLUMNS = {
    "role": "角色|role",
    "name": "姓名|联系人|name",
    "phone": "电话|手机|联系方式|phone",
    "email": "邮箱|mail",
    "duty": "责任|职责|duty",
}


_ESCALATION = re.compile("escalat|升级|上报|on-?call", re.IGNORECASE)


def contacts(sections: list[Section]) -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    for section in sections:
        if _ESCALATION.search(section.title):
            # an escalation path: "1. **Team Lead** - If rollback fails", in order
            for block in section.blocks:
                match = (
                    re.match(r"^(.{1,40}?)\s+[-–—:：]\s+(\S.*)$", block.text)
                    if block.kind in ("numbered", "bullet")
                    else None
                )
                if match:
                    people.append({"role": safe(match.group(1)), "duty": safe(match.group(2))})
        for block in section.blocks:
            if block.kind == "table" and any(re.search("角色|role", h, re.I) for h in block.rows[0]):
                people += _contact_rows(block.rows)
        in_contacts = any(
            re.search("联系|contact", t, re.I) for t in [section.title, *(a.title for a in section.ancestors())]
        )
        fields = {
            k: v
            for k, label in (("name", "姓名"), ("phone", "电话"), ("email", "邮箱"), ("duty", "职责"))
            for b in section.blocks
            if (v := field_value(b.text, label))
        }
        if in_contacts and fields:
            people.append({"role": safe(section.title), **{k: safe(v) for k, v in fields.items()}})
            continue
        label = False
        for block in section.blocks:
            if block.kind == "paragraph":
                label = bool(re.search("联系人|联系方式|contact", block.text, re.I))
            match = re.match(r"^([^:：]{1,20})[:：]\s*(\S.*)$", block.text) if block.kind == "bullet" else None
            if match and (in_contacts or label) and re.search(r"@|\+?\d[\d*x-]{5,}", match.group(2)):
                key = "email" if "@" in match.group(2) else "phone"
                people.append({"role": safe(match.group(1)), key: safe(match.group(2))})
    return people


def _contact_rows(rows: list[list[str]]) -> list[dict[str, str]]:
    header, people = rows[0], []
    for cells in rows[1:]:
        person: dict[str, str] = {}
        extra = []
        for h, cell in zip(header, cells, strict=False):
            key = next((k for k, rx in _CONTACT_COLUMNS.items() if re.search(rx, h, re.I)), None)
            if key and key not in person:
                person[key] = safe(cell)
            elif cell:
                extra.append(f"{h}: {cell}")
        if person.get("role"):
            if extra:
                person["duty"] = "; ".join(filter(None, [person.get("duty", ""), *extra]))
            people.append(person)
    return people


def templates(sections: list[Section]) -> list[dict[str, str]]:
    found = []
    for section in sections:
        if re.search("通知|notif|模板|template", section.title, re.I) and not re.search(
            "记录|复盘|record|report", section.title, re.I
        ):
            for block in section.blocks:
                if block.kind == "code" and block.lang not in SHELL and block.text.strip():
                    found.append(
                        {
                            "id": f"notice-{len(found) + 1}",
                            "title": safe(re.sub(r"^\d+[.)、]\s*", "", section.title)),
                            "body": safe(block.text.strip()),
                        }
                    )
    return found


def record(sections: list[Section]) -> dict[str, Any]:
    record: dict[str, list[dict[str, str]]] = {}
    for section in sections:
        part = (
            "retrospective"
            if re.search("复盘|retro", section.title, re.I)
            else "sections"
            if re.search("记录|record", section.title, re.I)
            else None
        )
        if part and re.search("模板|template", section.title, re.I):
            for block in section.blocks:
                if block.kind == "code" and block.text.strip():
                    record.setdefault(part, []).append({"title": safe(section.title), "body": safe(block.text.strip())})
    return record


APPENDIX = re.compile(
    "附录|appendix|最佳实践|best practice|相关文档|常用命令|命令速查|cheat ?sheet|资源链接|references|参考",
    re.IGNORECASE,
)


def appendix(sections: list[Section]) -> list[dict[str, str]]:
    """Reference sections (commands, links, practices) kept as text, outermost section only."""
    found = []
    for section in sections:
        if APPENDIX.search(section.title) and not any(APPENDIX.search(a.title) for a in section.ancestors()):
            body = "\n".join(_render(part, part is section) for part in section.walk()).strip()
            if body:
                found.append({"title": safe(section.title), "body": safe(body)})
    return found


def _render(section: Section, top: bool) -> str:
    lines = [] if top else ["", f"{'#' * max(section.level - 1, 1)} {section.title}"]
    for block in section.blocks:
        if block.kind == "code":
            lines += [f"```{block.lang}", block.text, "```"]
        elif block.kind == "table":
            lines += [" | ".join(row) for row in block.rows]
        elif block.kind in ("bullet", "check"):
            lines.append(" " * block.depth + f"- {block.text}")
        elif block.kind == "numbered":
            lines.append(" " * block.depth + f"1. {block.text}")
        else:
            lines.append(block.text)
    return "\n".join(lines)
