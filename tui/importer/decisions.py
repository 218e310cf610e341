"""A document's prose decision section ("When to Rollback: … 5xx errors >5% … Do NOT rollback
for: …", "回滚条件") as severity levels the flowchart asks about, and the thresholds it names
as ``[[monitors]]`` that say what they call for; thresholds in tables and nested lists too."""

from __future__ import annotations

import re
from typing import Any

from tui.importer.markdown import Section, safe

WHEN = re.compile(
    r"when to (use|roll ?back)|回滚时机|何时回滚|回滚条件|rollback criteria|rollback triggers|"
    r"rollback decision|decision criteria|trigger conditions|when to revert",
    re.I,
)
_NOT = re.compile(r"do not|don't|not roll|no rollback|fix(ed)? forward|不回滚|无需回滚|不需要回滚|不要回滚", re.I)
_PAUSE = re.compile(r"evaluat|consider|assess|manual decision|decide|judg|建议|评估|考虑|酌情|人工判断", re.I)
_ARROW = re.compile(r"\s*(?:→|->|=>|⇒)\s*")

# "5xx errors >5%", "Error rate > 1% for 5+ minutes", "错误率超过 5%", "p95 latency <= 2s"
_COMPARE = re.compile(
    r"(?P<metric>[\w\u4e00-\u9fff][\w\u4e00-\u9fff .%/-]{0,40}?)\s*[:：]?\s*"
    r"(?P<op><=|>=|<|>|≤|≥|超过|高于|大于|低于|小于)\s*(?P<value>\d+(?:\.\d+)?\s*(?:%|ms|s\b|秒|分钟|毫秒|qps|rps|x\b|/min)?)",
    re.I,
)
_WORD_OPS = {"超过": ">", "高于": ">", "大于": ">", "低于": "<", "小于": "<", "≤": "<=", "≥": ">="}


def action_of(text: str) -> str:
    if _NOT.search(text):
        return "observe"
    if _PAUSE.search(text):
        return "pause"
    return "rollback"


def threshold(text: str) -> tuple[str, str] | None:
    """(metric, condition) of the first comparison in ``text``: ``("5xx errors", "> 5%")``."""
    match = _COMPARE.search(text)
    if not match:
        return None
    metric = re.sub(r"^[\W_]+|[\W_]+$", "", match.group("metric")).strip()
    metric = re.sub(r"^.*?\s[-–—]\s+", "", metric)  # "High error rate - 5xx errors" → "5xx errors"
    if not metric:
        return None
    op = _WORD_OPS.get(match.group("op"), match.group("op"))
    return metric, f"{op} {match.group('value').strip().replace(' ', '')}"


_LEVEL_NAMES = {"rollback": "rollback", "pause": "decide", "observe": "no-rollback"}  # ids too (flowchart nodes)


def decisions(sections: list[Section]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Severity levels (one per kind of outcome the section names, in its order) and monitors for
    the thresholds among their conditions."""
    groups: dict[str, dict[str, Any]] = {}
    monitors: list[dict[str, Any]] = []
    for section in sections:
        if not WHEN.search(section.title):
            continue
        for part in section.walk():
            label = part.title
            for block in part.blocks:
                if block.kind == "paragraph":
                    label = block.text
                    continue
                if block.kind not in ("bullet", "numbered", "check") or block.depth:
                    continue
                pieces = _ARROW.split(block.text, maxsplit=1)  # "X > 1% for 5 min → automatic rollback"
                condition, said = (pieces[0], pieces[1]) if len(pieces) == 2 else (block.text, "")
                action = action_of(said) if said else action_of(label)
                group = groups.setdefault(action, {"label": label, "conditions": []})
                group["conditions"].append(safe(block.text))
                if found := threshold(condition):
                    monitors.append(_monitor(block.text, found, action))
        break  # the first such section: later ones are other plans' own
    levels = [
        {
            "level": _LEVEL_NAMES[action],
            "name": safe(re.sub(r"[:：]\s*$", "", group["label"]))[:120],
            "conditions": group["conditions"],
            "action": action,
        }
        for action, group in groups.items()
    ]
    for monitor in monitors:
        monitor["severity"] = _LEVEL_NAMES[monitor.pop("_action")]
    return levels, monitors


def _monitor(text: str, found: tuple[str, str], action: str) -> dict[str, Any]:
    return {
        "id": "",
        "title": safe(text),
        "metric": safe(found[0]),
        "condition": safe(found[1]),
        "action": action,
        "_action": action,
    }


def table_monitors(sections: list[Section]) -> list[dict[str, Any]]:
    """Rows of a table with a metric and a threshold column ("Error Rate | >10% | Immediate
    rollback | P0") as monitors, with the row's action and severity."""
    found: list[dict[str, Any]] = []
    for block in (b for s in sections for b in s.blocks if b.kind == "table"):
        header = [h.lower() for h in block.rows[0]]
        metric = _column(header, r"metric|指标|signal")
        limit = _column(header, r"threshold|阈值|limit|条件|condition")
        if metric is None or limit is None:
            continue
        severity = _column(header, r"severity|level|级别|严重|优先")
        action = _column(header, r"action|response|处理|响应|决策|策略|decision")
        for row in block.rows[1:]:
            if max(metric, limit) >= len(row):
                continue
            condition = _condition(row[limit])
            if not condition or not row[metric]:
                continue
            monitor: dict[str, Any] = {
                "id": "",
                "title": safe(" ".join(c for c in row if c)),
                "metric": safe(row[metric]),
                "condition": safe(condition),
            }
            if severity is not None and severity < len(row) and row[severity]:
                monitor["severity"] = safe(row[severity])
            if action is not None and action < len(row) and row[action]:
                monitor["action"] = safe(row[action])
            found.append(monitor)
    return found


def _column(header: list[str], pattern: str) -> int | None:
    return next((n for n, h in enumerate(header) if re.search(pattern, h, re.I)), None)


def _condition(cell: str) -> str:
    """ ">10%" → "> 10%"; "5-10%" → ">= 5%" (the row applies from its lower bound)."""
    cell = cell.strip()
    if match := re.fullmatch(r"(<=|>=|<|>|≤|≥)\s*(\d+(?:\.\d+)?\s*\S*)", cell):
        return f"{_WORD_OPS.get(match.group(1), match.group(1))} {match.group(2).replace(' ', '')}"
    if match := re.fullmatch(r"(\d+(?:\.\d+)?)\s*[-–~]\s*(\d+(?:\.\d+)?)\s*(\S*)", cell):
        return f">= {match.group(1)}{match.group(3)}"
    return ""
