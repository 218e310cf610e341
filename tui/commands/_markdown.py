"""Just enough Markdown for ``rbconsole import``: a tree of headed sections holding paragraphs,
list items, checklist items, tables and fenced code, each with the line it came from.

Rollback plans are written in every Markdown dialect; this reads the shapes they share and keeps
anything it does not understand as a paragraph, so nothing raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tui.runbook.placeholders import PLACEHOLDER

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
_CHECK = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)\d+[.)、]\s+(.*)$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass
class Block:
    kind: str  # paragraph | bullet | numbered | check | table | code
    line: int
    text: str = ""
    lang: str = ""
    depth: int = 0
    rows: list[list[str]] = field(default_factory=list)
    done: bool = False


@dataclass
class Section:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = field(default=None, repr=False)

    def walk(self) -> list[Section]:
        """This section and every section under it, in document order."""
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found

    def all_blocks(self) -> list[Block]:
        return [block for section in self.walk() for block in section.blocks]

    def ancestors(self) -> list[Section]:
        found = []
        node = self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


def parse(text: str) -> Section:
    """The document as a root section (level 0) holding everything before the first heading."""
    root = Section("", 0, 1)
    current = root
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        number = i + 1
        fence = _FENCE.match(line)
        if fence:
            marker = fence.group(1)
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(marker):
                body.append(lines[i])
                i += 1
            current.blocks.append(Block("code", number, "\n".join(body), lang=fence.group(2).lower()))
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            parent = current
            while parent.level >= level:
                assert parent.parent is not None  # the root has level 0, below every heading
                parent = parent.parent
            current = Section(clean(heading.group(2)), level, number, parent=parent)
            parent.children.append(current)
        elif line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_RULE.match(lines[i + 1]):
            rows = [_cells(line)]
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            current.blocks.append(Block("table", number, rows=rows))
            continue
        elif match := _CHECK.match(line):
            current.blocks.append(Block("check", number, clean(match.group(2)), done=match.group(1) != " "))
        elif match := _BULLET.match(line):
            current.blocks.append(Block("bullet", number, clean(match.group(2)), depth=len(match.group(1))))
        elif match := _NUMBERED.match(line):
            current.blocks.append(Block("numbered", number, match.group(2).strip(), depth=len(match.group(1))))
        elif line.strip() and line.strip() != "---":
            current.blocks.append(Block("paragraph", number, clean(line)))
        i += 1
    return root


def _cells(line: str) -> list[str]:
    return [clean(cell) for cell in line.strip().strip("|").split("|")]


_EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f\u200d]")


def clean(text: str) -> str:
    """Text without emphasis markers, emoji and surrounding space."""
    text = _EMOJI.sub("", text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    return text.strip()


def inline_code(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def field_value(text: str, *labels: str) -> str | None:
    """The value of ``label: value`` (full- or half-width colon) when ``text`` starts with a label."""
    for label in labels:
        match = re.match(rf"^\s*{re.escape(label)}\s*[:：]\s*(.*)$", clean(text))
        if match:
            return match.group(1).strip()
    return None


# --- fenced shell code: one chunk per commented group of commands ---------------------------

SHELL = frozenset({"bash", "sh", "shell", "zsh", "console", "shell-session"})
_NOTE = re.compile(r"^(预期|期望|应|仍|确认是|选择|备份文件命名|expected|expect|should|output)", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


@dataclass
class Chunk:
    """Commands that a comment introduces, with the comment as a title and later comments as notes."""

    title: str = ""
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    line: int = 0
    alternative: bool = False  # "# 或者…": another way to do the previous chunk, never both

    @property
    def run(self) -> str:
        return _dedent("\n".join(self.commands)).strip()


def shell_chunks(code: str, first_line: int) -> list[Chunk]:
    if code.lstrip().startswith("#!"):
        return [Chunk(commands=code.split("\n"), line=first_line)]
    chunks: list[Chunk] = []
    current = Chunk(line=first_line)
    heredoc_end: str | None = None
    for offset, line in enumerate(code.split("\n")):
        stripped = line.strip()
        if heredoc_end is not None:
            current.commands.append(line)
            heredoc_end = None if stripped == heredoc_end else heredoc_end
            continue
        if not stripped:
            continue
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if (_NOTE.match(comment) or comment.startswith(("-", "*"))) and (current.commands or chunks):
                (current if current.commands else chunks[-1]).notes.append(comment)
                continue
            if current.commands:
                chunks.append(current)
                current = Chunk(line=first_line + offset)
            if not current.title:
                current.title = re.sub(r"^\d+[.)、]\s*", "", comment)
                current.alternative = comment.startswith(("或者", "或", "or ", "Or "))
            else:
                current.notes.append(comment)
            continue
        if not current.commands:
            current.line = first_line + offset
        current.commands.append(line)
        if match := _HEREDOC.search(line):
            heredoc_end = match.group(1)
    if current.commands:
        chunks.append(current)
    return _joined_by_variables(chunks)


def _joined_by_variables(chunks: list[Chunk]) -> list[Chunk]:
    """One chunk for the whole block when a shell variable set in one chunk is read in another:
    steps run in separate shells, so splitting would lose the value."""
    for i, chunk in enumerate(chunks):
        for name in re.findall(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=", chunk.run, re.M):
            if any(re.search(rf"\${{?{name}\b", later.run) for later in chunks[i + 1 :]):
                whole = Chunk(chunks[0].title, line=chunks[0].line)
                for part in chunks:
                    whole.commands += ([f"# {part.title}"] if part.title else []) + part.commands
                    whole.notes += part.notes
                return [whole]
    return chunks


def sql_chunks(code: str, first_line: int) -> list[Chunk]:
    """SQL split at ``-- comment`` lines, the same way as shell."""
    as_shell = "\n".join(
        "# " + line.strip()[2:].strip() if line.strip().startswith("--") else line for line in code.split("\n")
    )
    return shell_chunks(as_shell, first_line)


def _dedent(text: str) -> str:
    lines = text.split("\n")
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)


# --- reading what a section says ---------------------------------------------------------------


def labelled(section: Section, *labels: str) -> list[Block]:
    """Items that follow a ``**label**:`` paragraph in ``section``, up to the next paragraph."""
    items: list[Block] = []
    taking = False
    for block in section.blocks:
        if block.kind == "paragraph":
            taking = any(re.match(rf"^{label}\s*[:：]?\s*$", block.text, re.I) for label in labels)
        elif taking and block.kind in ("bullet", "numbered"):
            items.append(block)
    return items


def safe(text: str) -> str:
    """Imported text never holds a ``{{ placeholder }}`` (the format has no escape for one)."""
    return PLACEHOLDER.sub(lambda m: "{ {" + m.group(1) + "} }", text)
