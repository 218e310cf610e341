"""Which sections become plans, and their steps.

Every section whose subtree holds commands is kept, whatever its heading says: pre-check sections
become ``[[checks]]``, verification sections become a plan's ``verify``, reference sections
(appendix, command cheat-sheets) stay in the appendix, and everything else becomes a plan or part of
one. Alternatives (方案 A / Option B / Method 3 / 场景 C / Stage 2, the children of a "choose"
heading, sibling "… rollback" sections, risk entries with their own commands) become separate plans;
other subsections are parts of the plan they sit in.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from tui.importer.markdown import Block, Section, clean, field_value, inline_code, labelled, safe
from tui.importer.sections import APPENDIX, minutes
from tui.importer.shell import SHELL, SQL, Chunk, Command, looks_like_shell, shell_chunks, sql_chunks
from tui.importer.steps import BLANKS, Context, captured_http, command_steps, manual, placeholder, sql_steps, why_manual

ALTERNATIVE = re.compile(
    r"^(方案|预案|方式|方法|办法|Plan|Option|Method|Approach|Way|Scenario|场景|情形|选项|Stage|阶段|Strategy|策略)\s*([A-Za-z0-9一二三四五六七八九十]+)\b\s*[:：.、-]?\s*(.*)$",
    re.IGNORECASE,
)
_CHOOSE = re.compile(r"选择|choose|pick|options|alternatives|方案选择|备选", re.IGNORECASE)
_ROLLBACK = re.compile(r"回滚|回退|rollback|roll back|revert", re.IGNORECASE)
CHECKS = re.compile(
    r"回滚前检查|前置检查|事前检查|pre-?checks?|pre-?flight|prerequisites?|before you (begin|start)", re.I
)
VERIFY = re.compile(r"验证|校验|verif|post-?rollback|smoke test|health ?check|健康检查|确认恢复", re.I)
_VERIFYING_ROLLBACK = re.compile(
    r"回滚后验证|回滚验证|验证回滚|post-?rollback|rollback verification|verify(ing)? (the )?rollback", re.I
)
_DOES = re.compile(r"回滚|回退|恢复|步骤|处理|rollback|roll back|restore|recover|mitigat|procedure|steps", re.I)
_NUMBERING = re.compile(r"^[\d.]+\s*|^[A-Z][.)]\s+")
_CHINESE_NUMBERS = "一二三四五六七八九十"


def command_block(block: Block) -> str | None:
    """``shell`` or ``sql`` when the block holds commands, the one place that decides it."""
    if block.kind != "code":
        return None
    if block.lang in SHELL:
        return "shell"
    if block.lang in SQL:
        return "sql"
    if block.lang in ("", "text", "plain", "txt") and looks_like_shell(block.text):
        return "shell"
    return None


def inline_command(block: Block) -> Command | None:
    """The commands a numbered item gives in code spans (``2. 停止写入: `pm2 stop api` ``), as one."""
    codes = [c for c in inline_code(block.text) if looks_like_shell(c)] if block.kind == "numbered" else []
    return Command("\n".join(codes), block.line) if codes else None


def holds_commands(section: Section) -> bool:
    """Commands anywhere under the section, or an alternative that lists its steps in words."""
    blocks = section.all_blocks()
    if any(command_block(b) or inline_command(b) for b in blocks):
        return True
    return bool(ALTERNATIVE.match(_NUMBERING.sub("", section.title))) and any(
        b.kind == "numbered" and b.depth == 0 for b in blocks
    )


@dataclass
class Unit:
    """One plan to be: the section it is named after and the sections whose blocks it runs."""

    head: Section
    parts: list[Section] = field(default_factory=list)
    verify: list[Section] = field(default_factory=list)
    alternative: bool = False
    # a procedure whose step N offers alternatives: (where in ``parts``, the alternatives)
    fork: tuple[int, list[Section]] | None = None


@dataclass
class Found:
    units: list[Unit] = field(default_factory=list)
    checks: list[Section] = field(default_factory=list)
    verify: list[Section] = field(default_factory=list)  # outside every plan: every plan's verification
    reference: list[Section] = field(default_factory=list)
    choices: list[list[Unit]] = field(default_factory=list)  # groups of alternatives to choose between


def find(root: Section) -> Found:
    found = Found()
    _container(root, found)
    return found


def _role(section: Section) -> str | None:
    title = _NUMBERING.sub("", section.title)
    if APPENDIX.search(title):
        return "reference"
    if CHECKS.search(title) and not re.search("清单|checklist", title, re.I):
        return "checks"
    # a heading that names the whole procedure ("Detection → Mitigation → Verification → Rollback")
    # is not a verification: only one whose words, less "rollback verification", say nothing else
    rest = _VERIFYING_ROLLBACK.sub("", title)
    if VERIFY.search(title) and not ALTERNATIVE.match(title) and not _DOES.search(rest):
        return "verify"
    return None


# "Quick Rollback (Method 1)": a section that says it is one of the document's alternatives
_NAMED_ALTERNATIVE = re.compile(
    r"[(（]\s*(?:方案|预案|方法|Plan|Option|Method|Approach|Scenario|场景|Stage|阶段)\s*[A-Za-z0-9一二三四五六七八九十]+\s*[)）]",
    re.IGNORECASE,
)


def _container(section: Section, found: Found) -> None:
    """The root and level-1 sections: each child with commands is a plan of its own (or a group);
    children that call themselves alternatives ("(Method 1)", "(Method 2)") are the document's
    main choice."""
    named: list[Unit] = []
    for child in section.children:
        if not holds_commands(child):
            continue
        role = _role(child)
        before = len(found.units)
        if role:
            _assign(child, role, found, None)
        elif child.level == 1:
            _container(child, found)
        else:
            _split(child, found)
        if not role and _NAMED_ALTERNATIVE.search(child.title):
            named += [u for u in found.units[before:] if u.head is child]
    if len(named) >= 2:
        found.choices.insert(0, named)
    own = [b for b in section.blocks if command_block(b) or inline_command(b)]
    if own:  # commands before the first sub-heading (or any heading) are a plan too
        found.units.insert(
            0, Unit(section, [Section(section.title, section.level, section.line, blocks=section.blocks)])
        )


def _assign(section: Section, role: str, found: Found, unit: Unit | None) -> None:
    if role == "reference":  # kept as text in the appendix, and its commands as a plan to run from
        found.reference.append(section)
        whole = Unit(section)
        _gather(section, whole, [], found)
        found.units.append(whole)
    elif role == "checks":
        found.checks.append(section)
    elif unit is not None:
        unit.verify.append(section)
    else:
        found.verify.append(section)


def _splits(section: Section) -> list[Section]:
    kids = [c for c in section.children if holds_commands(c) and not _role(c)]
    if len(kids) < 2:
        return [c for c in kids if _is_risk(c)]
    choose = bool(_CHOOSE.search(section.title))
    # sibling "… rollback" sections are component rollbacks (database, backend, frontend) when
    # there are several; a lone "2. Initiate rollback" is a step of the procedure around it
    components = len([c for c in kids if _ROLLBACK.search(c.title)]) >= 2
    labels = [_label(c) for c in kids]
    cases = {label for label in labels if label and labels.count(label) >= 2}  # "Issue: A", "Issue: B"
    return [
        c
        for c in kids
        if choose
        or _label(c) in cases
        or ALTERNATIVE.match(_NUMBERING.sub("", c.title))
        or (components and _ROLLBACK.search(c.title))
        or _is_risk(c)
    ]


def _label(section: Section) -> str:
    match = re.match(r"^([^:：]{1,20})[:：]\s*\S", _NUMBERING.sub("", section.title))
    return match.group(1).strip().lower() if match else ""


def _is_risk(section: Section) -> bool:
    return any(b.text.startswith(("风险描述", "Risk:")) for b in section.blocks)


def _split(section: Section, found: Found, alternative: bool = False) -> None:
    """``section`` as one plan, less the children that are plans of their own."""
    splits = _splits(section)
    unit = Unit(section, alternative=alternative)
    group: list[Unit] = []
    _gather(section, unit, splits, found)
    if unit.fork:
        # one plan per alternative, each the whole procedure: the steps before, its own, the steps after
        where, alternatives = unit.fork
        forked = []
        for alternative in alternatives:
            own_unit = Unit(alternative, alternative=True)
            _gather(alternative, own_unit, [], found)
            parts = [*unit.parts[:where], *own_unit.parts, *unit.parts[where:]]
            forked.append(Unit(alternative, parts, [*own_unit.verify, *unit.verify], alternative=True))
        found.units += forked
        found.choices.append(forked)
        return
    own = [b for part in unit.parts for b in part.blocks]
    if any(command_block(b) or inline_command(b) for b in own) or (holds_commands(section) and not splits):
        found.units.append(unit)
    for child in splits:
        before = len(found.units)
        is_alternative = (
            bool(ALTERNATIVE.match(_NUMBERING.sub("", child.title)))
            or bool(_CHOOSE.search(section.title))
            or bool(_label(child) and [_label(c) for c in splits].count(_label(child)) >= 2)
        )
        _split(child, found, is_alternative)
        group += [u for u in found.units[before:] if u.head is child]
    if len([u for u in group if u.alternative]) >= 2:
        found.choices.append([u for u in group if u.alternative])


def _gather(section: Section, unit: Unit, splits: list[Section], found: Found) -> None:
    unit.parts.append(section)
    for child in section.children:
        if child in splits or not holds_commands(child):
            if not holds_commands(child) and child not in splits:
                unit.parts.append(child)  # for its words (when, summary), it has no commands
            continue
        role = _role(child)
        if role:
            _assign(child, role, found, unit)
        elif deeper := _splits(child):
            choose = bool(_CHOOSE.search(child.title))
            if unit.fork is None and all(choose or ALTERNATIVE.match(_NUMBERING.sub("", g.title)) for g in deeper):
                # step N of the procedure offers alternatives: each becomes the whole procedure
                _gather(child, unit, deeper, found)
                unit.fork = (len(unit.parts), deeper)
                continue
            # a part that holds plans of its own (component rollbacks): the part here, those as plans
            for grand in deeper:
                _split(grand, found, bool(ALTERNATIVE.match(_NUMBERING.sub("", grand.title))))
            _gather(child, unit, deeper, found)
        else:
            _gather(child, unit, [], found)


# --- naming ------------------------------------------------------------------------------------


def plan_key(unit: Unit, taken: dict[str, Any], risk: str | None) -> str:
    if risk:
        return risk
    match = ALTERNATIVE.match(_NUMBERING.sub("", unit.head.title))
    key = ""
    if match:
        word, mark = match.group(1).lower(), match.group(2)
        if mark in _CHINESE_NUMBERS:
            mark = str(_CHINESE_NUMBERS.index(mark) + 1)
        if word in ("stage", "阶段"):
            key = f"stage-{mark}"
        elif word in ("method", "approach", "scenario", "场景", "strategy", "策略"):
            key = f"{ {'场景': 'scenario', '策略': 'strategy'}.get(word, word) }-{mark.upper()}"
        else:
            key = mark.upper()
    if not key or key in taken:
        n = 1
        while f"plan-{n}" in taken:
            n += 1
        key = f"plan-{n}"
    return key


def plan_title(unit: Unit) -> str:
    title = _NUMBERING.sub("", unit.head.title)
    match = ALTERNATIVE.match(title)
    name = match.group(3) if match and match.group(3) else title
    name = re.sub(r"\s*[（(][^)）]*[)）]\s*$", "", name).strip()
    return safe(name or title or "导入的命令 / imported commands")


# --- steps -------------------------------------------------------------------------------------


def build_plan(unit: Unit, ctx: Context, everywhere: list[dict[str, Any]]) -> dict[str, Any]:
    plan: dict[str, Any] = {"title": plan_title(unit)}
    head = unit.head
    summary = next((b.text for b in head.blocks if b.kind == "paragraph" and not b.text.endswith((":", "："))), "")
    if summary and not re.match(r"^[^:：]{1,8}[:：]", summary):
        plan["summary"] = safe(summary)
    when = [safe(b.text) for b in labelled(head, "适用场景", "触发条件", "When", "When to use")]
    if when:
        plan["when"] = when
    target = _target(unit)
    if target:
        plan["target_minutes"] = target
    plan["steps"] = steps_of(unit.parts, ctx, check=False)
    verify = [*steps_of([s for v in unit.verify for s in v.walk()], ctx, check=True, verify=True), *everywhere]
    if verify:
        plan["verify"] = [{**v, "id": f"v{n}"} for n, v in enumerate(verify, 1)]
    return plan


# "(Within 24 hours)", "（30 分钟内）", "every 5 min": when, not how long
_DEADLINE = re.compile(r"within|by |after|every|each|以内|之内|内[)）]|后[)）]|每", re.I)
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-–~]\s*(\d+(?:\.\d+)?)\s*(分钟|min)", re.I)


def _target(unit: Unit) -> float | None:
    """The plan's target time: what its heading says, else the sum of what its parts say they take
    ("步骤 1（约 5 分钟）", "Duration: 10 min"). Parts stamped with a running clock ("Step 2 (5-10
    minutes)", "Step 3 (10-15 minutes)") give the time the last one ends, not a sum."""
    own = minutes(unit.head.title)
    if own:
        return own
    parts = [p for p in unit.parts if p is not unit.head and not _DEADLINE.search(p.title)]
    took = [m for p in parts if (m := minutes(p.title) or _stated(p))]
    ranges = [(float(m.group(1)), float(m.group(2))) for p in parts if (m := _RANGE.search(p.title))]
    pairs = list(itertools.pairwise(ranges))
    rising = all(a[0] <= b[0] and a[1] <= b[1] for a, b in pairs)
    if pairs and rising and any(b[0] == a[1] for a, b in pairs):
        return max(took)
    return round(sum(took), 1) if took else None


def _stated(section: Section) -> float | None:
    for block in section.blocks:
        said = field_value(block.text, "预计时间", "预计耗时", "耗时", "Estimated time", "Duration", "Time")
        if said and (found := minutes(said)):
            return found
    return None


def steps_of(sections: list[Section], ctx: Context, *, check: bool, verify: bool = False) -> list[dict[str, Any]]:
    """Steps (or, with ``check``, pre-checks; with ``verify`` too, verifications) from the sections' blocks."""
    steps: list[dict[str, Any]] = []
    ctx.verifying = verify
    ctx.remote = None  # a login in one plan's steps is not a login in the next plan
    cwd: str | None = None  # a document's `cd DIR` holds for the sections after it, as in a shell
    for section in sections:
        ctx.window = minutes(section.title)  # how long the section says its commands take (watching)
        has_code = any(command_block(b) for b in section.blocks)
        for block in section.blocks:
            kind = command_block(block)
            if kind == "shell":
                made, cwd = _shell_steps(block, ctx, check, cwd)
                steps += made
            elif kind == "sql":
                for chunk in sql_chunks(block.text, block.line):
                    steps += sql_steps(chunk, ctx, check=check)
            elif block.kind == "numbered" and block.depth == 0 and not check:
                command = inline_command(block)
                if has_code and not command:
                    continue
                title = clean(re.split("[:：]", re.sub(r"`[^`]*`", "", block.text))[0]) or block.text[:60]
                if command:
                    chunk, cwd = _cd(Chunk(title=title, commands=[command], line=block.line), cwd, ctx)
                    steps += command_steps(chunk, ctx, check=False, cwd=cwd) if chunk.commands else []
                else:
                    step = manual(ctx, title, Command(block.text, block.line), "written as words, not a command")
                    step["instruction"] = safe(block.text)
                    ctx.outcomes.pop(block.line, None)  # not a command: the coverage counts commands only
                    steps.append(step)
    prefix = "v" if check else "s"
    for n, step in enumerate(steps, 1):
        step["id"] = f"{prefix}{n}"
    return steps


def _shell_steps(block: Block, ctx: Context, check: bool, cwd: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A shell block's steps, values carried between them by captures where each capturing command
    became a runnable step, else the block kept as one step."""
    for captures in (True, False):
        steps: list[dict[str, Any]] = []
        here = cwd
        kept = True
        for chunk, capture in carried(shell_chunks(block.text, block.line), captures, ctx):
            chunk, here = _cd(chunk, here, ctx)
            if not chunk.commands:
                continue
            answer = captured_http(chunk, ctx, capture, check=check) if capture and not ctx.remote else None
            made = [answer] if answer else command_steps(chunk, ctx, check=check, cwd=here, plain=bool(capture))
            if capture and not answer:
                if not made or made[-1]["kind"] not in ("local", "ssh"):
                    kept = False
                    break
                made[-1]["capture"] = {capture: "stdout"}
            steps += made
        if kept:
            return steps, here
    raise AssertionError("a block without captures always keeps")


def _cd(chunk: Chunk, cwd: str | None, ctx: Context) -> tuple[Chunk, str | None]:
    """Each step runs in its own shell: a lone ``cd DIR`` is the working directory of the steps after it."""
    kept = []
    for command in chunk.commands:
        move = re.fullmatch(r"cd\s+(\S+)", command.text.strip())
        if move and not kept and not ctx.remote:  # on a host logged in to, the cd is part of its shell
            cwd = move.group(1)
            ctx.outcomes[command.line] = ("runnable", "cwd")
            continue
        kept.append(command)
    return Chunk(chunk.title, kept, chunk.notes, chunk.line, chunk.alternative, chunk.together), cwd


_CAPTURED = re.compile(r"^(?:export\s+|local\s+)?([A-Za-z_]\w*)=\"?\$\((.+)\)\"?$", re.S)


def carried(chunks: list[Chunk], captures: bool = True, ctx: Context | None = None) -> list[tuple[Chunk, str | None]]:
    """Each step runs in its own shell, so a shell variable set in one step is gone in the next.
    ``NAME=$(cmd)`` read by later chunks becomes a step that captures ``cmd``'s output as a
    placeholder those chunks use; any other variable shared across chunks keeps the block one step."""
    if ctx is not None:
        _inline_constants(chunks, ctx)
    shared = _shared(chunks)
    if shared - (_capturable(chunks) if captures else set()):
        whole = Chunk(chunks[0].title, line=chunks[0].line, together=True)
        for part in chunks:
            whole.commands += part.commands
            whole.notes += part.notes
        return [(whole, None)]
    out: list[tuple[Chunk, str | None]] = []
    for i, chunk in enumerate(chunks):
        pending = Chunk(chunk.title, [], list(chunk.notes), chunk.line, chunk.alternative)
        renamed: dict[str, str] = {}  # captured in this chunk: what the commands after it read
        for command in chunk.commands:
            for name, key in renamed.items():
                command = Command(_reads(name).sub(placeholder(key), command.text), command.line)
            found = _capture(command.text)
            if not (found and found[0] in shared):
                pending.commands.append(command)
                continue
            name, run = found
            if pending.commands:
                out.append((pending, None))
            key = renamed[name] = name.lower()
            for other in chunks[i + 1 :]:
                other.commands = [Command(_reads(name).sub(placeholder(key), c.text), c.line) for c in other.commands]
            title = pending.title if not pending.commands else ""
            out.append((Chunk(title or chunk.title, [Command(run, command.line)], [], command.line), key))
            pending = Chunk("", [], [], command.line)
        if pending.commands:
            out.append((pending, None))
    return out


# NAME="/var/backups/app/$(date +%F)": the value is what printing it gives
_COMPOSED = re.compile(r"""^(?:export\s+|local\s+)?([A-Za-z_]\w*)="([^"`\\]*\$\([^"`\\]*)"$""")


def _capture(text: str) -> tuple[str, str] | None:
    """``NAME=$(cmd)`` → (NAME, cmd); ``NAME="…$(cmd)…"`` → (NAME, a command printing the value)."""
    if match := _CAPTURED.match(text.strip()):
        return match.group(1), match.group(2)
    if match := _COMPOSED.match(text.strip()):
        return match.group(1), f"printf '%s\\n' \"{match.group(2)}\""
    return None


def _reads(name: str) -> re.Pattern[str]:
    return re.compile(rf"\$\{{{name}\}}|\${name}\b")


_CONSTANT = re.compile(r"""^(?:export\s+)?([A-Za-z_]\w*)=(?:"([^"$`\\]*)"|'([^']*)'|([^\s"'$`\\;|&<>()]*))$""")
_PLAIN_VALUE = re.compile(r"[\w./:@%+=,\x00-]+")


def _inline_constants(chunks: list[Chunk], ctx: Context) -> None:
    """A variable set once to a plain constant (``BACKUP_DIR="/var/backups/app"``) and read by later
    chunks: its value is written where it is read, so each step has it in its own shell."""
    assignments = [
        (i, m) for i, chunk in enumerate(chunks) for c in chunk.commands if (m := _CONSTANT.match(c.text.strip()))
    ]
    names = [m.group(1) for _, m in assignments]
    for i, match in assignments:
        name = match.group(1)
        value = next((g for g in match.groups()[1:] if g is not None), "")
        set_again = names.count(name) > 1 or any(
            re.search(rf"^\s*(?:export\s+)?{name}=", c.text, re.M) and not _CONSTANT.match(c.text.strip())
            for chunk in chunks
            for c in chunk.commands
        )
        if set_again or not _PLAIN_VALUE.fullmatch(value):
            continue  # set twice, or a value with spaces or globs: the shell would read it differently
        if BLANKS.search(value):  # BACKUP_DIR="…/YYYYMMDD_HHMMSS": the one param its assignment asks for
            value = ctx.param(name, f"{name} (the document writes {value})")
        for later in chunks[i + 1 :]:
            later.commands = [
                Command(re.sub(rf"\$\{{{name}\}}|\${name}\b", lambda _, v=value: v, c.text), c.line)
                for c in later.commands
            ]


def _shared(chunks: list[Chunk]) -> set[str]:
    """Shell variables set in one chunk and read in a later one."""
    names = set()
    for i, chunk in enumerate(chunks):
        for name in re.findall(r"^\s*(?:export\s+|local\s+)?([A-Za-z_]\w*)=", chunk.run, re.M):
            if any(re.search(rf"\${{?{name}\b", later.run) for later in chunks[i + 1 :]):
                names.add(name)
    return names


def _capturable(chunks: list[Chunk]) -> set[str]:
    return {
        found[0] for chunk in chunks for c in chunk.commands if (found := _capture(c.text)) and not why_manual(found[1])
    }
