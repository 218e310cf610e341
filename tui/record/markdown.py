"""The rollback record in Markdown, laid out like the seeds' rollback record template
(basic info, reason, process, verification, result, follow-up, timeline) and retrospective,
with headings in Chinese and English because the runbooks and their readers are both."""

from __future__ import annotations

import re
from typing import Any

from tui.engine.events import STATUS_WORDS
from tui.record.build import clock
from tui.runbook.durations import format_duration

RESULT_LINES = (
    ("success", "✅ 回滚成功 · success"),
    ("partial", "⚠️ 部分成功 · partial"),
    ("failed", "❌ 回滚失败 · failed"),
    ("aborted", "⛔ 已中止 · aborted"),
)
# States that are not a rollback's outcome: shown alone (dry run) or beside the boxes, unticked.
STATE_LINES = {
    "dry_run": "🔍 空跑 · DRY RUN — nothing was executed; this is not a rollback",
    "interrupted": "⏸️ 中断 · interrupted — the session did not end (it can be resumed)",
    "running": "⏳ 进行中 · in progress — the session is still running",
}
MODE_NAMES = {
    "LIVE": "LIVE 生产",
    "DRILL": "DRILL 演练",
    "DRY RUN": "DRY RUN 空跑",
    "DRILL DRY RUN": "DRILL DRY RUN 演练空跑",
}
DEFAULT_FOLLOWUP = (
    "分析问题原因 · root cause",
    "修复问题代码 · fix",
    "测试修复方案 · test the fix",
    "重新部署 · redeploy",
    "持续监控 · monitor",
)
DEFAULT_RETRO = ("根因分析 · Root cause", "改进措施 · Improvements")
MAX_EXCERPT_LINES = 20
# A runbook's [[record.sections]] titled like a built-in section takes its place (its title
# becomes the heading; the run fills the content) instead of being appended as a blank copy.
BUILTIN_SECTIONS = {
    "basic": ("基本信息", "Basic info"),
    "reason": ("回滚原因", "Reason"),
    "steps": ("回滚过程", "回滚步骤", "Steps", "Process"),
    "verification": ("回滚验证", "Verification"),
    "result": ("回滚结果", "Result"),
    "followup": ("后续计划", "Follow-up"),
    "notes": ("备注", "Notes"),
    "timeline": ("时间线", "Timeline"),
}


def _key(title: str) -> str:
    return re.sub(r"[\W\d_]+", "", title).lower()


_BUILTIN_KEYS = {_key(alias): name for name, aliases in BUILTIN_SECTIONS.items() for alias in aliases}


def mirrored(sections: list[dict[str, Any]]) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The built-in sections the runbook's sections replace (built-in name -> the runbook's
    title), and the runbook's other sections, which are appended as written."""
    titles: dict[str, str] = {}
    rest = []
    for section in sections:
        name = _BUILTIN_KEYS.get(_key(str(section.get("title", ""))))
        if name is not None and name not in titles:
            titles[name] = str(section["title"])
        else:
            rest.append(section)
    return titles, rest


def _field_value(field: dict[str, Any]) -> str:
    if field["missing"]:
        return f"⚠️ 未知 · unknown (this run never learnt {', '.join(field['missing'])})"
    return field["value"] or "⚠️ 未知 · unknown (left empty)"


def cell(value: object) -> str:
    """A value safe inside a Markdown table cell (one line, pipes escaped)."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def fence(text: str) -> str:
    """A code block whose fence cannot be closed by the output inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def _outcome(row: dict[str, Any], status: str | None = None) -> str:
    status = status or row["status"]
    if status == "unknown":
        return "⚠️ outcome unknown (interrupted)"
    if status == "not_sent":
        return "📣 printed, not sent"
    if status == "dry_run":
        return "dry run — not executed"
    status = STATUS_WORDS.get(status, status)
    lost = "; ".join(
        f"attempt {i['attempt']} interrupted, outcome unknown: answered {i['answer']} ({i['by']})"
        for i in row.get("interrupted") or []
    )
    return f"{status} ({lost})" if lost else status


def _name(row: dict[str, Any]) -> str:
    return cell(f"{row['id']} {row['title']}" if row["title"] else row["id"])


def _basic(record: dict[str, Any]) -> list[str]:
    b = record["basic"]
    mode = MODE_NAMES.get(b["mode_label"], b["mode_label"])
    if b.get("scenario"):
        mode += f" (scenario {b['scenario']})"
    plan = f"{b['plan']} — {b['plan_title']}" if b.get("plan") else "(none chosen)"
    if b.get("recommended_plan") and b["recommended_plan"] != b.get("plan"):
        plan += f" (recommended {b['recommended_plan']}; {b.get('plan_reason') or 'no reason given'})"
    yes = "yes — confirmations answered by --yes" if b["yes"] else "no"
    if b["yes"] and b.get("yes_answers"):
        yes += f" ({b['yes_answers']} answered)"
    rows = [
        ("回滚时间 · Start", b["started"]),
        ("结束时间 · End", b["ended"] or "(not ended)"),
        ("方案耗时 · Plan time", _plan_time(record)),
        ("会话耗时 · Session time", _session_time(b)),
        ("回滚人员 · Operator", b["operator"]),
        ("Runbook", f"{b['runbook']} ({b['runbook_id']})"),
        ("服务 · Service", b["service"]),
        ("版本 · Versions", _versions(b)),
        ("方案 · Plan", plan),
        ("模式 · Mode", mode),
        ("Dry-run", "yes — nothing was executed" if b["dry_run"] else "no"),
        ("--yes", yes),
        ("严重程度 · Severity", b.get("severity") or "—"),
        ("Profile", b.get("profile") or "—"),
        ("Session", record["session"]),
    ]
    if b["params"]:
        rows.append(("Params", ", ".join(f"{k}={v}" for k, v in b["params"].items())))
    for resumed in b["resumed"]:
        rows.append(("Resumed", f"{resumed['time']} by {resumed['operator']} on {resumed['host']}"))
    rows += [(field["label"], _field_value(field)) for field in record.get("fields") or []]
    return ["| | |", "|---|---|", *(f"| {cell(k)} | {cell(v)} |" for k, v in rows)]


def _versions(b: dict[str, Any]) -> str:
    text = f"{b['version_from'] or '?'} → {b['version_to'] or '?'}"
    if b.get("version_of_plan"):
        text += f" (what plan {b['plan']} leaves running)"
    running = b.get("version_running")
    if running:
        what = "verification" if running["phase"] == "verify" else "step"
        text += f"; seen running: {running['value']} ({what} {running['by']})"
    return text


def _plan_time(record: dict[str, Any]) -> str:
    """The plan's own time (first step start to last verification end) against its target."""
    b = record["basic"]
    minutes = b.get("target_minutes")
    target = f"target {minutes:g} min" if minutes else "no target set"
    if b["dry_run"]:
        return f"— (dry run: nothing ran; {target})"
    seconds = b.get("plan_seconds")
    if seconds is None:
        return f"— (no step ran; {target})"
    if not record["final"]:
        return f"{format_duration(seconds)} so far ({target}; the session has not ended)"
    if not minutes:
        return f"{format_duration(seconds)} ({target})"
    if record["result"] != "success":
        return f"{format_duration(seconds)} ({target}; the plan did not succeed, so no time was met)"
    limit = minutes * 60
    verdict = "within target" if seconds <= limit else f"over target by {format_duration(seconds - limit)}"
    return f"{format_duration(seconds)} ({target}, {verdict})"


def _session_time(b: dict[str, Any]) -> str:
    if b["duration"] is None:
        return "— (not ended)"
    return f"{format_duration(b['duration'])} (start to end: forms, triage and checks included)"


def _action_table(rows: list[dict[str, Any]], *, steps: bool) -> list[str]:
    if not rows:
        return ["(none)"]
    if not steps:
        out = ["| Check | Result | Severity | Duration | Detail |", "|---|---|---|---|---|"]
        for r in rows:
            detail = r["detail"] or r.get("summary") or ""
            out.append(
                f"| {_name(r)} | {cell(_outcome(r))} | {cell(r['severity'])} "
                f"| {cell(format_duration(r['duration']) if r['duration'] is not None else '')} | {cell(detail)} |"
            )
        return out
    out = ["| # | Step | Host | Start | Duration | Exit | Outcome |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        hosts = r["hosts"] or {"": {}}
        for name, host in hosts.items():
            started = host.get("started") or r["started"]
            duration = host.get("duration") if host.get("duration") is not None else r["duration"]
            exit_status = host.get("exit_status") if name else r.get("exit_status")
            outcome = _outcome(r, host.get("status") if name else None)
            detail = host.get("detail") or (r["detail"] if not name or len(hosts) == 1 else "")
            attempts = f" ×{r['attempts']}" if r["attempts"] > 1 else ""
            out.append(
                f"| {r['index']} | {_name(r)}{attempts} | {cell(name or r['where'] or r['kind'])} "
                f"| {cell(clock(started) if started else '')} "
                f"| {cell(format_duration(duration) if duration is not None else '')} "
                f"| {cell('' if exit_status is None else exit_status)} | {cell(outcome)}"
                f"{cell(': ' + detail) if detail and outcome not in ('ok',) else ''} |"
            )
    return out


def _excerpts(rows: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for r in rows:
        for host, text in (r.get("excerpt") or {}).items():
            if not text.strip():
                continue
            lines = text.splitlines()[-MAX_EXCERPT_LINES:]
            out += [
                f"**{r['id']}** on `{host}` (last {len(lines)} line{'s' if len(lines) > 1 else ''}):",
                "",
                fence("\n".join(lines)),
                "",
            ]
    return out


def _readings(rows: list[dict[str, Any]]) -> list[str]:
    """The metric values each prometheus check read, series by series."""
    out: list[str] = []
    for r in rows:
        for reading in r.get("readings") or []:
            window = (
                f"min {reading.get('min')}, max {reading.get('max')} over {reading.get('samples')}/"
                f"{reading.get('expected_samples')} samples"
                if "samples" in reading
                else ""
            )
            out.append(
                f"| {cell(r['id'])} | `{cell(reading.get('series'))}` | {cell(reading.get('value'))} "
                f"| {cell(window)} | {'ok' if reading.get('ok') else '✗'} |"
            )
    if not out:
        return []
    head = ["### 指标读数 · Metric readings", "", "| Check | Series | Value | Window | Met |", "|---|---|---|---|---|"]
    return [*head, *out, ""]


def _monitors(record: dict[str, Any]) -> list[str]:
    """The live monitors as read when the incident started and when it ended."""
    readings = record.get("monitors") or []
    if not readings:
        return []
    out = ["## 监控读数 · Monitors", ""]
    names = {"start": "开始 · At start", "end": "结束 · At the end"}
    for read in readings:
        suggested = f" — suggested severity {read['suggested']}" if read.get("suggested") else ""
        out += [f"### {names.get(read['at'], read['at'])} ({read['time']}){suggested}", ""]
        out += ["| Monitor | Severity | Fires when | State | Values |", "|---|---|---|---|---|"]
        for r in read.get("readings") or []:
            values = "; ".join(f"{v['value']} `{v['series']}`" for v in r.get("values") or []) or r.get("detail", "")
            state = {"fires": "🔥 fires", "quiet": "quiet", "no_data": "no data", "error": "error"}.get(r["state"], "")
            out.append(
                f"| {cell(r['id'] + (' ' + r['title'] if r.get('title') and r['title'] != r['id'] else ''))} "
                f"| {cell(r.get('severity'))} | {cell(r.get('condition'))} | {state} | {cell(values)} |"
            )
        out.append("")
    return out


def _drift(record: dict[str, Any]) -> list[str]:
    """Each step's time against its baseline from earlier drills (only when a step had one)."""
    found = record.get("drift") or []
    if not found:
        return []
    out = [
        "## 与演练对比 · Drift against drills",
        "",
        f"Baseline: the median time of each step over the last drills of this plan "
        f"({record['drift_baselines']} of its steps have one). ⚠️ marks a step far off its drill time.",
        "",
    ]
    out += [f"- {'⚠️ ' if d.get('flagged') else ''}{d['text']}" for d in found]
    return [*out, ""]


def _checklist(items: list[dict[str, Any]]) -> list[str]:
    lines = []
    for item in items:
        by = f" ({item['by']})" if item["ticked"] and item["by"] else ""
        lines.append(f"- [{'x' if item['ticked'] else ' '}] {item['text']}{by}")
    return lines


def render(record: dict[str, Any]) -> str:
    b = record["basic"]
    title = record["title"] or "回滚记录 · Rollback record"
    titles, sections = mirrored(record["sections"])

    def heading(name: str, default: str) -> str:
        return f"## {titles.get(name, default)}"

    out: list[str] = []
    if not record["final"]:
        out += [f"> **{record['notice']}** — the session is {record['result_label']}; what follows can change.", ""]
    out += [f"# {title}: {b['service'] or b['runbook']}", ""]
    if record["journal_failed"]:
        out += [
            f"> **JOURNAL FAILED** — {record['journal_failed']}. From then on nothing more was started; "
            "this record comes from the running process, and the journal on disk ends earlier.",
            "",
        ]
    if b["mode"] == "drill":
        out += ["> **DRILL 演练** — a rehearsal, not a production rollback.", ""]
    if b["dry_run"]:
        out += ["> **DRY RUN 空跑** — every command was resolved and shown; nothing was executed.", ""]
    out += [heading("basic", "基本信息 · Basic info"), "", *_basic(record), ""]
    out += [heading("reason", "回滚原因 · Reason"), "", record["reason"] or "(no reason given)", ""]
    if record["triage"] or record["triage_result"]:
        out += ["## 分级与决策 · Triage", ""]
        out += [f"{n}. {t['question']} → **{t['answer']}**" for n, t in enumerate(record["triage"], 1)]
        reached = record["triage_result"]
        if reached:
            leads = f"plan {reached['plan']}" if reached.get("plan") else reached.get("action") or ""
            out += ["", f"Reached: {reached.get('text')} ({leads})"]
        out.append("")
    out += _monitors(record)
    out += ["## 回滚前检查 · Pre-checks", "", *_action_table(record["prechecks"], steps=False), ""]
    for check_id, reason in record["overrides"].items():
        by = record["overridden_by"].get(check_id)
        out.append(f"- overridden **{check_id}**" + (f" by {by}" if by else "") + f": {reason}")
    if record["overrides"]:
        out.append("")
    if record["setup"]:
        out += ["### 演练准备 · Drill setup", "", *_action_table(record["setup"], steps=True), ""]
    out += [heading("steps", "回滚过程 · Steps"), "", *_action_table(record["steps"], steps=True), ""]
    confirmations = record["confirmations"]
    if confirmations:
        out += ["Confirmations:", ""]
        out += [
            f"- {c['time']} {c['question']} **{c['id']}**: {c['answer'] or 'no answer'} ({c['by']})"
            for c in confirmations
        ]
        out.append("")
    excerpts = _excerpts(record["setup"] + record["steps"] + record["verification"] + record["teardown"])
    if excerpts:
        out += ["### 输出摘录 · Output excerpts", "", *excerpts]
    out += _drift(record)
    out += [
        heading("verification", "回滚验证 · Verification"),
        "",
        *_action_table(record["verification"], steps=False),
        "",
    ]
    out += _readings(record["prechecks"] + record["steps"] + record["verification"])
    if record["teardown"]:
        out += ["### 演练清理 · Drill teardown", "", *_action_table(record["teardown"], steps=True), ""]
    out += ["## 检查清单 · Checklists", ""]
    names = {"pre": "回滚前 · Before", "during": "回滚中 · During", "post": "回滚后 · After"}
    unticked: list[str] = []
    for name, label in names.items():
        items = record["checklists"].get(name) or []
        if items:
            out += [f"### {label}", "", *_checklist(items), ""]
            unticked += [i["text"] for i in items if not i["ticked"]]
    if unticked:
        out += [f"Unticked ({len(unticked)}): " + "; ".join(unticked), ""]
    out += [heading("result", "回滚结果 · Result"), ""]
    if record["basic"]["dry_run"]:
        # A dry run rolled nothing back, whatever its walk found: no rollback box applies.
        out.append(f"- [x] {STATE_LINES['dry_run']}")
        if record["result"] != "dry_run":
            out.append(f"- [x] ❌ the walk did not get through: {record['result_label']}")
    else:
        out += [f"- [{'x' if record['result'] == key else ' '}] {label}" for key, label in RESULT_LINES]
        if record["result"] in STATE_LINES:
            out.append(f"- [x] {STATE_LINES[record['result']]}")
    if record["end_reason"]:
        out += ["", f"Reason: {record['end_reason']}"]
    unsent = [r["id"] for r in record["steps"] + record["setup"] + record["teardown"] if r["status"] == "not_sent"]
    if unsent:
        out += [
            "",
            f"📣 Notifications printed, not sent (no webhook; nobody confirmed sending them): {', '.join(unsent)}",
        ]
    out.append("")
    out += [heading("timeline", "时间线 · Timeline"), ""]
    out += [f"- {clock(line['ts'])} {line['text']}" for line in record["timeline"]]
    out.append("")
    followup = record["checklists"].get("followup") or []
    out += [heading("followup", "后续计划 · Follow-up"), ""]
    out += _checklist(followup) if followup else [f"- [ ] {item}" for item in DEFAULT_FOLLOWUP]
    out.append("")
    if record["notes"] or record["warnings"] or "notes" in titles:
        out += [heading("notes", "备注 · Notes"), ""]
        out += [f"- {n['time']} {n['by']}: {n['text']}" for n in record["notes"]]
        out += [f"- warning: {w}" for w in record["warnings"]]
        if not record["notes"] and not record["warnings"]:
            out.append("(无 · none)")
        out.append("")
    for section in sections:
        out += [f"## {section['title']}", "", section.get("body") or "", ""]
    out += ["## 复盘 · Retrospective", ""]
    retro = record["retrospective"] or [{"title": t, "body": ""} for t in DEFAULT_RETRO]
    for section in retro:
        out += [f"### {section['title']}", "", section.get("body") or "", ""]
    out += ["| 措施 · Action | 负责人 · Owner | 截止日期 · Due | 状态 · Status |", "|---|---|---|---|", "| | | | |", ""]
    if record["journal_failed"]:
        out.append(
            f"_Rendered from the {record['events']} events of session {record['session']} held by the process "
            f"that ran it; the journal on disk has the first {record['journaled']}._"
        )
    else:
        out.append(f"_Rendered from the {record['events']} journaled events of session {record['session']}._")
    return "\n".join(out) + "\n"
