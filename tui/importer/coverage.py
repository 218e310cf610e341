"""What an import kept: every command of the document (shell lines and SQL statements, by source
line) and where it went — a runnable step or check, a manual step (and why), reference text in the
appendix — and what found no home. The report is printed after every import."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from tui.importer.markdown import Section
from tui.importer.plans import command_block, inline_command
from tui.importer.shell import shell_chunks, sql_chunks


@dataclass
class Coverage:
    commands: dict[int, str]  # first source line → the command's first line
    outcomes: dict[int, tuple[str, str]]  # line → ("runnable", kind) | ("manual", why) | ("reference", where)
    homeless: list[tuple[int, str]] = field(default_factory=list)  # (line, text) kept only in the appendix
    # runnable only once rewritten to end by themselves (``watch``, ``logs -f``, ``exec -it``): line → note
    rewritten: dict[int, str] = field(default_factory=dict)
    # parts of the document's flowchart that say nothing the flowchart can ask or do: (line, text)
    chart_unread: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def of(cls, root: Section, outcomes: dict[int, tuple[str, str]]) -> Coverage:
        commands: dict[int, str] = {}
        for block in root.all_blocks():
            if inline := inline_command(block):
                commands[inline.line] = inline.text.split("\n")[0].strip()
            kind = command_block(block)
            chunks = shell_chunks(block.text, block.line) if kind == "shell" else sql_chunks(block.text, block.line)
            for chunk in chunks if kind else []:
                for command in chunk.commands:
                    commands[command.line] = command.text.split("\n")[0].strip()
        return cls(commands, {line: o for line, o in outcomes.items() if line in commands})

    def reference(self, section: Section, where: str = "appendix") -> None:
        for block in section.all_blocks():
            if inline := inline_command(block):
                self.outcomes.setdefault(inline.line, ("reference", where))
            kind = command_block(block)
            chunks = shell_chunks(block.text, block.line) if kind == "shell" else sql_chunks(block.text, block.line)
            for chunk in chunks if kind else []:
                for command in chunk.commands:
                    self.outcomes.setdefault(command.line, ("reference", where))

    def count(self, what: str) -> int:
        return sum(1 for line in self.commands if self.outcomes.get(line, ("lost", ""))[0] == what)

    @property
    def lost(self) -> list[int]:
        return sorted(line for line in self.commands if line not in self.outcomes)

    def figures(self) -> dict[str, int]:
        return {
            "commands": len(self.commands),
            "runnable": self.count("runnable"),
            "manual": self.count("manual"),
            "reference": self.count("reference"),
            "lost": len(self.lost),
        }

    def report(self, source: str) -> list[str]:
        f = self.figures()
        lines = [
            f"{source}: {f['commands']} command(s): {f['runnable']} runnable, {f['manual']} manual, "
            f"{f['reference']} reference only (appendix), {f['lost']} lost"
        ]
        kinds = Counter(o[1] for line, o in self.outcomes.items() if o[0] == "runnable" and line in self.commands)
        if kinds:
            lines.append("  runnable as: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
        why: dict[str, list[int]] = {}
        for line, (what, reason) in sorted(self.outcomes.items()):
            if what == "manual" and line in self.commands:
                why.setdefault(reason, []).append(line)
        for reason, where in why.items():
            lines.append(f"  manual, {reason}: {len(where)} (line {', '.join(map(str, where))})")
        if where := sorted(line for line in self.rewritten if line in self.commands):
            lines.append(
                f"  runnable once made to end by itself (the step's note says what the document wrote): "
                f"{len(where)} (line {', '.join(map(str, where))})"
            )
        for line in self.lost:
            lines.append(f"  lost: {source}:{line}: {self.commands[line][:100]}")
        if self.chart_unread:
            lines.append(
                f"  flowchart: {len(self.chart_unread)} part(s) of the drawing not read as a question or an"
                " outcome (an outcome it cannot read pauses for the operator; each is kept in the appendix):"
            )
            lines += [f"    {source}:{line}: {' '.join(text.split())[:100]}" for line, text in self.chart_unread]
        if self.homeless:
            lines.append(
                f"  no home, kept as text in the appendix ({UNPLACED}): {len(self.homeless)} block(s) "
                f"(line {', '.join(str(line) for line, _ in self.homeless)})"
            )
        return lines


UNPLACED = "导入时未归类 / not placed by the import"


def unplaced(root: Section, runbook_text: str) -> list[tuple[int, str, str]]:
    """Blocks whose words appear nowhere in the runbook (a paragraph, a list item, a table row, a
    code block), with their source line: nothing is dropped silently."""
    flat = _words(runbook_text)
    found: list[tuple[int, str, str]] = []
    for section in root.walk():
        for block in section.blocks:
            if block.kind == "table":
                texts = [" | ".join(row) for row in block.rows]
                body = list(zip(block.rows, texts, strict=True))[1:]  # the header names columns, not content
                missing = [t for row, t in body if not all(_words(c) in flat for c in row)]
                if missing:
                    found.append((block.line, "\n".join(texts), section.title))
                continue
            text = block.text
            if block.kind != "code" and (label := re.match(r"^[^:：]{1,30}[:：]\s*(.*)$", text)):
                text = label.group(1)  # "**版本**: 1.0.0" is placed when its value is
            if command_block(block) or not _words(text):
                continue
            if _words(text) not in flat:
                shown = f"```{block.lang}\n{text}\n```" if block.kind == "code" else text
                found.append((block.line, shown, section.title))
    return found


def _words(text: str) -> str:
    """Text as it compares across Markdown and TOML: letters and digits only."""
    return "".join(ch for ch in text if ch.isalnum())
