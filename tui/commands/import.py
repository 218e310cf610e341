"""``rbconsole import PLAN.md [-o FILE]``: a Markdown rollback plan as a runbook skeleton that validates.

What it reads (the shapes the seed documents share): the title (H1), versions and owner from
``label: value`` lines, severity levels from P0/P1/P2 (or trigger-level) headings with their
conditions, decider and response time, a risk register from risk sections, plans from "方案 A" /
"Plan B" / "Stage 1" headings (or, failing those, rollback sections with commands) with the target
time in their heading, decision-matrix and contact tables, checklists from ``- [ ]`` items,
pre-checks and verifications from their sections, notification templates, record templates.

Every imported command is a step that asks before it runs (``confirm = true``) and names the line it
came from: a skeleton is a draft to review, never something to run blind. Commands with blanks to
fill in (``<commit>``, ``[备份文件名]``, ``YOUR_KEY``) and checks that would change something become
manual steps. The module name is a keyword; the CLI imports it with ``importlib``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import tomli_w

from tui.commands._import_sections import (
    appendix,
    checklists,
    contacts,
    flow,
    matrix,
    minutes,
    record,
    severity,
    templates,
)
from tui.commands._markdown import (
    SHELL,
    Chunk,
    Section,
    clean,
    field_value,
    inline_code,
    labelled,
    parse,
    safe,
    shell_chunks,
    sql_chunks,
)
from tui.runbook.loader import load_text

_PLAN = re.compile(r"^(方案|Plan|Stage)\s*([A-Za-z0-9]+)\s*[:：.]?\s*(.*)$", re.IGNORECASE)
_BLANKS = re.compile(
    r"<[\w-]+>|\[[^\]\"']*[\u4e00-\u9fff][^\]\"']*\]|YOUR_[A-Z_]+|YYYY|\bxxx\b|^\s*(nano|vi|vim)\s|^\s*\w+\.\w+\(.*\)\s*;?\s*$",
    re.M,
)
_READ_ONLY = re.compile(
    r"^(ls|stat|cat|tail|head|grep|test|\[|find|du|df|wc|echo|jq|date|md5sum|sha256sum|"
    r"git (log|status|tag|show|rev-parse)|(sudo )?systemctl status|pm2 (status|list)|docker(-compose)? ps|kubectl get)\b"
)
_CURL_GET = re.compile(r"^curl(\s+-[sSfLk]+|\s+-X\s+GET)*\s+['\"]?(https?://[^\s'\"$`]+)['\"]?$")
_NOT_A_PLAN = re.compile(
    r"验证|检查|清单|触发|决策|联系|模板|通知|记录|复盘|演练|原则|概述|时机|准备|verif|check|trigger|template"
)


def main(args: argparse.Namespace) -> int:
    source = Path(args.plan)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"rbconsole import: cannot read {source}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 1
    runbook = build(text, source.name)
    output = f"# Imported by `rbconsole import` from {source.name}: a skeleton to review before use.\n\n"
    output += tomli_w.dumps(runbook, multiline_strings=True)
    loaded = load_text(output, args.output or "<import>")
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    if args.output:
        Path(args.output).write_text(output, encoding="utf-8")
    else:
        sys.stdout.write(output)
    steps = sum(len(p["steps"]) for p in runbook["plans"].values())
    print(
        f"imported {len(runbook['plans'])} plan(s), {steps} step(s), {len(runbook.get('checks', []))} check(s), "
        f"{len(runbook.get('severity', []))} severity level(s), {len(runbook.get('contacts', []))} contact(s)",
        file=sys.stderr,
    )
    return 0 if loaded.ok else 1


def build(text: str, source: str) -> dict[str, Any]:
    root = parse(text)
    sections = root.walk()[1:]
    title = next((s.title for s in sections if s.level == 1), "") or Path(source).stem
    ident = _slug(title) or _slug(Path(source).stem) or "imported"
    facts = _facts(root)
    plans, risks = _plans(sections, source)
    levels = severity(sections, plans)
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
        "params": {"reason": {"prompt": "回滚原因 / why roll back?", "required": True}},
        "severity": levels,
        "risks": risks,
        "matrix": matrix(sections, plans),
        "flow": flow(levels),
        "checks": _checks(sections, source),
        "plans": plans,
        "checklists": checklists(sections),
        "contacts": contacts(sections),
        "templates": templates(sections),
        "record": record(sections),
        "appendix": appendix(sections),
    }
    verify = _verify(sections, source)
    for plan in plans.values():
        if verify:
            plan["verify"] = verify
    return {key: value for key, value in runbook.items() if value not in ("", [], {}, None)}


# --- facts and words ---------------------------------------------------------------------------


def _facts(root: Section) -> dict[str, str]:
    labels = {
        "current_version": ("当前版本", "Current version"),
        "target_version": ("回滚目标", "目标版本", "Target version"),
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


def _summary(sections: list[Section]) -> str:
    for section in sections[:6]:
        for block in section.blocks:
            if block.kind == "paragraph" and len(block.text) > 15 and not re.match(r"^[^:：]{1,12}[:：]", block.text):
                return safe(block.text)
    return ""


# --- plans and steps -------------------------------------------------------------------------


def _plans(sections: list[Section], source: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    plans: dict[str, Any] = {}
    for section in sections:
        match = _PLAN.match(section.title)
        if match and section.level > 1:
            number = match.group(2)
            key = f"stage-{number}" if match.group(1).lower() == "stage" else number.upper()
            name = re.sub(r"[（(].*?[)）]", "", match.group(3)).strip() or section.title
            plans[key] = _plan(section, name, source)
    if not plans:
        candidates = [
            s
            for s in sections
            if s.level > 1
            and re.search("回滚|rollback", s.title, re.I)
            and not _NOT_A_PLAN.search(s.title)
            and any(_commands(part) for part in s.walk())
        ]
        inner = [s for s in candidates if not any(c is not s and s in c.ancestors() for c in candidates)]
        for n, section in enumerate(inner, 1):
            plans[f"plan-{n}"] = _plan(section, re.sub(r"^[\d.]+\s*", "", section.title), source)
    risks = []
    for section in sections:
        description = next(
            (field_value(b.text, "风险描述") for b in section.blocks if field_value(b.text, "风险描述")), None
        )
        if description is None:
            continue
        n = len(risks) + 1
        levels = " ".join(a.title for a in section.ancestors())
        level = "high" if "高" in levels else "low" if "低" in levels else "medium"
        name = re.sub(r"^\d+[.)、]\s*", "", section.title)
        fields = {
            k: next((v for b in section.blocks if (v := field_value(b.text, label))), "")
            for k, label in (("scope", "影响范围"), ("probability", "发生概率"), ("impact", "影响程度"))
        }
        risk: dict[str, Any] = {
            "id": f"risk-{n}",
            "level": level,
            "title": safe(name),
            "description": safe(description),
        }
        risk.update({k: safe(v) for k, v in fields.items() if v})
        risk["prevention"] = [safe(b.text) for b in labelled(section, "预防措施")]
        if _steps(section, source):
            plans[f"risk-{n}"] = _plan(section, f"{name}：回滚", source)
            risk["plan"] = f"risk-{n}"
        risks.append(risk)
    if not plans:
        step = {
            "id": "s1",
            "title": "写下回滚步骤",
            "kind": "manual",
            "instruction": f"{source} 中没有找到回滚命令：请补充。",
        }
        plans["A"] = {"title": "回滚", "steps": [step]}
    return plans, risks


def _plan(section: Section, name: str, source: str) -> dict[str, Any]:
    plan: dict[str, Any] = {"title": safe(name) or section.title}
    summary = next((b.text for b in section.blocks if b.kind == "paragraph" and not b.text.endswith((":", "："))), "")
    if summary and not re.match(r"^[^:：]{1,8}[:：]", summary):
        plan["summary"] = safe(summary)
    when = [safe(b.text) for b in labelled(section, "适用场景", "触发条件", "When")]
    if when:
        plan["when"] = when
    target = minutes(section.title)
    if target:
        plan["target_minutes"] = target
    plan["steps"] = _steps(section, source)
    return plan


def _steps(section: Section, source: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    cwd = None
    for step in (step for part in section.walk() for step in _section_steps(part, source)):
        # each step runs in its own shell: a lone `cd` becomes the working directory of the steps after it
        if step["kind"] == "local" and (move := re.fullmatch(r"cd\s+(\S+)", step["run"])):
            cwd = move.group(1)
            continue
        if cwd and step["kind"] == "local":
            step["cwd"] = cwd
        steps.append(step)
    for n, step in enumerate(steps, 1):
        step["id"] = f"s{n}"
    return steps


def _commands(section: Section) -> bool:
    return any(
        (b.kind == "code" and b.lang in (*SHELL, "sql")) or (b.kind == "numbered" and inline_code(b.text))
        for b in section.blocks
    )


def _section_steps(section: Section, source: str) -> list[dict[str, Any]]:
    """Steps from one section's own blocks; a numbered list without commands beside code only describes it."""
    steps: list[dict[str, Any]] = []
    has_code = any(b.kind == "code" and b.lang in (*SHELL, "sql") for b in section.blocks)
    for block in section.blocks:
        if block.kind == "code" and block.lang in SHELL:
            steps += [_command_step(c, source) for c in shell_chunks(block.text, block.line + 1)]
        elif block.kind == "code" and block.lang == "sql":
            steps += [
                _manual_step(c.title or "执行 SQL", "在数据库上执行：\n" + c.run, c, source)
                for c in sql_chunks(block.text, block.line + 1)
            ]
        elif block.kind == "numbered" and block.depth == 0:
            codes = inline_code(block.text)
            if has_code and not codes:
                continue
            title = clean(re.split("[:：]", re.sub(r"`[^`]*`", "", block.text))[0]) or block.text[:60]
            chunk = Chunk(title=title, commands=codes[:1], line=block.line)
            steps.append(
                _command_step(chunk, source) if codes else _manual_step(title, clean(block.text), chunk, source)
            )
    return steps


def _command_step(chunk: Chunk, source: str) -> dict[str, Any]:
    run = chunk.run
    title = chunk.title or run.split("\n")[0][:60]
    if chunk.alternative or _BLANKS.search(run):
        return _manual_step(title, "填好空白后手动执行 / fill in the blanks and run by hand:\n" + run, chunk, source)
    step = {"id": "", "title": safe(title), "kind": "local", "run": safe(run), "confirm": not _read_only(run)}
    step["notes"] = _notes(chunk, source)
    return step


def _manual_step(title: str, instruction: str, chunk: Chunk, source: str) -> dict[str, Any]:
    return {
        "id": "",
        "title": safe(title),
        "kind": "manual",
        "instruction": safe(instruction),
        "notes": _notes(chunk, source),
    }


def _notes(chunk: Chunk, source: str) -> str:
    return safe("\n".join([f"imported from {source}:{chunk.line}; review before use", *chunk.notes]))


# --- checks, verification ----------------------------------------------------------------------


def _checks(sections: list[Section], source: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for section in sections:
        if re.search(r"回滚前检查|pre-?checks?", section.title, re.I) and not re.search(
            "清单|checklist", section.title, re.I
        ):
            for block in section.all_blocks():
                if block.kind == "code" and block.lang in SHELL:
                    found += [_check(c, source) for c in shell_chunks(block.text, block.line + 1)]
    for n, check in enumerate(found, 1):
        check["id"] = f"check-{n}"
    return found


def _verify(sections: list[Section], source: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for section in sections:
        if re.search(r"回滚后验证|回滚验证$|post-rollback", re.sub(r"^[\d.]+\s*", "", section.title), re.I):
            for block in section.all_blocks():
                if block.kind == "code" and block.lang in SHELL:
                    found += [_check(c, source) for c in shell_chunks(block.text, block.line + 1)]
    for n, check in enumerate(found, 1):
        check["id"] = f"v{n}"
    return found


def _check(chunk: Chunk, source: str) -> dict[str, Any]:
    """An http check for a plain GET, a local check for a read-only command, else a manual one."""
    run = chunk.run
    title = safe(chunk.title or run.split("\n")[0][:60])
    notes = _notes(chunk, source)
    get = _CURL_GET.match(run) if "\n" not in run else None
    if get:
        check: dict[str, Any] = {"id": "", "title": title, "kind": "http", "url": safe(get.group(2)), "notes": notes}
        expected = next((n[n.index("{") :] for n in chunk.notes if "{" in n), "")
        try:
            body = json.loads(expected) if expected else {}
        except ValueError:
            body = {}
        scalars = (
            {k: v for k, v in body.items() if isinstance(v, str | int | float | bool)} if isinstance(body, dict) else {}
        )
        if scalars:
            check["expect_json"] = {k: safe(str(v)) if isinstance(v, str) else v for k, v in scalars.items()}
        return check
    if _read_only(run):
        return {"id": "", "title": title, "kind": "local", "run": safe(run), "severity": "warning", "notes": notes}
    return {"id": "", "title": title, "kind": "manual", "instruction": safe("确认 / confirm:\n" + run), "notes": notes}


def _read_only(run: str) -> bool:
    commands = [line.strip() for line in run.split("\n") if line.strip()]
    readable = all(_READ_ONLY.match(c) or _CURL_GET.match(c) for c in commands)
    return (
        bool(commands)
        and readable
        and not _BLANKS.search(run)
        and not re.search(r"[;&|>]\s*(rm|mv|cp|chmod|kill)\b|>", run)
    )


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    return slug if re.match(r"^[a-z0-9]", slug) else ""
