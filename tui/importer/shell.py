"""Shell and SQL code blocks as commands: each logical command (continued lines, quoted strings over
several lines, here-documents and compound ``if``/``for`` blocks held together) with its source
line, grouped into chunks by the comments that introduce them."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

SHELL = frozenset({"bash", "sh", "shell", "zsh", "console", "shell-session", "shellscript", "ksh"})
SQL = frozenset({"sql", "psql", "postgresql", "postgres", "pgsql", "plpgsql", "mysql", "sqlite"})
_NOTE = re.compile(r"^(预期|期望|应|仍|确认是|选择|备份文件命名|expected|expect|should|output)", re.IGNORECASE)
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")
_OPENS = re.compile(r"^(if|for|while|until|case|select)\b|\{\s*$|\(\s*$")
_CLOSES = re.compile(r"^(fi|done|esac)\b|^\}|^\)")
_PROMPT = re.compile(r"^(\$|#|>)\s+(?=\S)")
# a first word that says "this is a command" when a block has no info string
_COMMAND_WORD = re.compile(
    r"^(\$ |sudo|cd|ls|cat|tail|head|grep|curl|wget|ssh|scp|rsync|git|docker|docker-compose|kubectl|helm|"
    r"systemctl|service|pm2|npm|yarn|pnpm|npx|node|python3?|pip|psql|mysql|mysqldump|pg_dump|pg_restore|"
    r"redis-cli|mongo|mongosh|cp|mv|rm|mkdir|chmod|chown|tar|export|echo|kill|pkill|nginx|supervisorctl|"
    r"journalctl|aws|gcloud|az|terraform|ansible|make|\./)\b"
)


@dataclass
class Command:
    text: str
    line: int


@dataclass
class Chunk:
    """Commands that a comment introduces, with the comment as a title and later comments as notes."""

    title: str = ""
    commands: list[Command] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    line: int = 0
    alternative: bool = False  # "# 或者…": another way to do the previous chunk, never both
    together: bool = False  # commands that share shell variables: one step, never split

    @property
    def run(self) -> str:
        return "\n".join(c.text for c in self.commands).strip()

    @property
    def lines(self) -> list[int]:
        return [c.line for c in self.commands]


def looks_like_shell(code: str) -> bool:
    """An unlabelled or indented block whose first real line starts like a command."""
    first = next((line.strip() for line in code.split("\n") if line.strip() and not line.strip().startswith("#")), "")
    return bool(_COMMAND_WORD.match(first))


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in lines]


def _complete(text: str) -> bool:
    if text.endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:
        return False  # a quote still open: the command goes on
    return True


def items(code: str, first_line: int) -> list[Command | str]:
    """The block as logical commands and comments (a comment is a plain ``str``), in order."""
    found: list[Command | str] = []
    lines = _dedent(code.split("\n"))
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith("#") and not stripped.startswith("#!"):
            found.append(stripped.lstrip("#").strip())
            i += 1
            continue
        start = i
        body = [_PROMPT.sub("", line, count=1) if _PROMPT.match(line) and looks_like_shell(line[2:]) else line]
        depth = 1 if _OPENS.search(stripped) and not _CLOSES.search(stripped) else 0
        heredocs = [m.group(2) for m in _HEREDOC.finditer(stripped)]
        i += 1
        while i < len(lines):
            text = "\n".join(body)
            if not heredocs and depth <= 0 and _complete(text):
                break
            line = lines[i]
            body.append(line)
            i += 1
            if heredocs:
                if line.strip() == heredocs[0]:
                    heredocs.pop(0)
                continue
            nested = line.strip()
            if _OPENS.search(nested) and not _CLOSES.search(nested):
                depth += 1
            elif _CLOSES.search(nested):
                depth -= 1
            heredocs += [m.group(2) for m in _HEREDOC.finditer(nested)]
        found.append(Command("\n".join(body).rstrip(), first_line + start))
    return found


def shell_chunks(code: str, first_line: int) -> list[Chunk]:
    if code.lstrip().startswith("#!"):
        commands = [c for c in items(code, first_line) if isinstance(c, Command)]
        return [Chunk(commands=[Command(code.strip(), first_line)], line=first_line)] if commands else []
    chunks: list[Chunk] = []
    current = Chunk(line=first_line)
    for item in items(code, first_line):
        if isinstance(item, Command):
            if not current.commands:
                current.line = item.line
            current.commands.append(item)
            continue
        comment = item
        if (_NOTE.match(comment) or comment.startswith(("-", "*"))) and (current.commands or chunks):
            (current if current.commands else chunks[-1]).notes.append(comment)
            continue
        if current.commands:
            chunks.append(current)
            current = Chunk(line=first_line)
        if not current.title:
            current.title = re.sub(r"^\d+[.)、]\s*", "", comment)
            current.alternative = comment.startswith(("或者", "或", "or ", "Or "))
        else:
            current.notes.append(comment)
    if current.commands:
        chunks.append(current)
    return chunks


def sql_chunks(code: str, first_line: int) -> list[Chunk]:
    """SQL split at ``-- comment`` lines into chunks of whole statements (ended by ``;``), and
    psql meta-commands (``\\i file``) as statements of their own."""
    chunks: list[Chunk] = []
    current = Chunk(line=first_line)
    statement: list[str] = []
    start = 0
    for offset, line in enumerate(code.split("\n")):
        stripped = line.strip()
        if not statement and (not stripped or stripped.startswith("--")):
            if stripped.startswith("--"):
                comment = stripped[2:].strip()
                if current.commands:
                    chunks.append(current)
                    current = Chunk(line=first_line + offset)
                if current.title:
                    current.notes.append(comment)
                else:
                    current.title = re.sub(r"^\d+[.)、]\s*", "", comment)
            continue
        if not statement:
            start = first_line + offset
        statement.append(line)
        if stripped.endswith(";") or (stripped.startswith("\\") and len(statement) == 1):
            current.commands.append(Command("\n".join(_dedent(statement)).strip(), start))
            statement = []
    if statement:
        current.commands.append(Command("\n".join(_dedent(statement)).strip(), start))
    if current.commands:
        chunks.append(current)
    return chunks
