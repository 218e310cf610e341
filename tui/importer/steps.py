"""One imported command as a step of the right kind, or a manual step that says why it is not run.

Shell lines become ``local``; ``ssh host '…'`` and ``ssh host << 'EOF' … EOF`` become ``ssh`` steps on
a ``[hosts]`` entry; a plain ``curl`` becomes ``http`` (method, URL, headers, JSON body, the expected
answer the document gives); SQL becomes ``sql``; ``git checkout TAG`` in a known directory becomes
``git``; ``sleep N`` becomes ``wait``. Commands that never end by themselves or need a terminal, that
have blanks to fill in, or that a check would run but which change something, become ``manual``
steps that show the command. Secrets written inline are moved to ``[secrets]`` read from the
environment and never copied into the runbook.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.importer.bounded import Bounded, bounded
from tui.importer.markdown import safe
from tui.importer.shell import Chunk, Command

BLANKS = re.compile(
    r"<[\w-]+>|\[[^\]\"']*[\u4e00-\u9fff][^\]\"']*\]|YOUR_[A-Z_]+|your[-_][a-z_-]+|YYYY|\bxxx+\b|\.\.\.(?![\w\"'])|…(?![\"'])",
)
_ENDLESS = re.compile(
    r"\btail\s+(-\w*[fF]\w*|--follow)|^\s*watch\s|\b(kubectl|oc)\b[^|]*\s(-w|--watch)\b|"
    r"\bpm2\s+(monit|logs)\b(?![^|]*--nostream)|\b(docker|docker-compose|kubectl|oc)\s+(\S+\s+)*?logs\b[^|]*\s(-f|--follow)\b|"
    r"\b(journalctl|stern)\b[^|]*\s(-f|--follow)\b|"
    r"^\s*(top|htop|iotop|iftop|nload|less|more)\b|\bping\s(?![^|]*\s-c\s*\d)|\bkubectl\s+port-forward\b",
    re.M,
)
_INTERACTIVE = re.compile(
    r"\bmysql(dump)?\b[^|<]*\s-p\s*$|\bmysql(dump)?\b[^|]*\s-p(\s|$)|^\s*(sudo\s+)?(vi|vim|nano|emacs|crontab\s+-e)\b|"
    r"\b(docker|kubectl|docker-compose|oc)\s+(exec|run)\s+(-\w*t\w*\s)|\bsudo\s+(-i|-s|su)\b|^\s*su(\s|$)|"
    r"^\s*(psql|mysql|redis-cli|mongo|mongosh|sqlite3)(\s+(?!-c\b|-e\b|-f\b|--command|--execute|--file)[^\s<|]+)*\s*$|"
    r"\bread\s+-p\b",
    re.M,
)
_SECRETISH = re.compile(r"(?i)(secret|token|passw(or)?d|passwd|pwd|api_?key|admin_?key|private_?key|credential|auth)")
_READ_ONLY = re.compile(
    r"^(ls|stat|cat|tail|head|grep|egrep|test|\[|find|du|df|wc|echo|jq|date|md5sum|sha256sum|sha1sum|free|uptime|"
    r"ps|pgrep|netstat|ss|lsof|id|whoami|hostname|which|file|readlink|nslookup|dig|"
    r"git (log|status|tag(\s+-l|\s+--list|\s*$)|show|rev-parse|describe|branch(\s*$|\s+-[avr]))|"
    r"(sudo )?systemctl (status|is-active|is-enabled)|(sudo )?supervisorctl status|pm2 (status|list|ls|describe|show)|"
    r"docker(-compose)? (ps|images|inspect|logs)|kubectl (get|describe|logs|wait|top|rollout (status|history))|journalctl|"
    r"helm (list|status|history)|nginx -t)\b"
)
_WRITES = re.compile(
    r"(^|[;&|]\s*)(rm|mv|cp|chmod|chown|kill|tee|dd|truncate)\b|>{1,2}\s*(?!/dev/null)|\bsed\s+-i\b|-delete\b"
)
_SQL_READS = re.compile(r"^\s*(select|show|explain|with\b(?![\s\S]*\b(update|insert|delete)\b)|table|values)\b", re.I)


def placeholder(name: str) -> str:
    """A placeholder the importer writes, marked so that ``safe`` (which neutralises every
    ``{{ … }}`` the document itself holds) leaves it alone; ``build.finish`` spells it out."""
    return f"\x00{name}\x00"


@dataclass
class Context:
    """What the whole document's steps share: hosts, secrets, the DSN, the source name."""

    source: str
    dsn_env: str = "DATABASE_URL"
    mysql: bool = False
    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    target_version: str = ""  # what the document says it rolls back to: a ref that names it says so
    # after a bare ``ssh host`` (a login), the document's commands run on that host until ``exit``
    remote: str | None = None
    verifying: bool = False  # verifications may make a functional call (POST a test login); pre-checks never
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    window: float | None = None  # minutes the section says it takes ("Monitor Stability (5 min)")
    # commands rewritten to end by themselves: line → what the document wrote and what runs instead
    rewrites: dict[int, str] = field(default_factory=dict)
    # for the coverage report: a command's first line → ("runnable", kind) | ("manual", reason)
    outcomes: dict[int, tuple[str, str]] = field(default_factory=dict)

    def host(self, target: str, port: str | None = None) -> str:
        user, _, address = target.rpartition("@")
        ident = re.sub(r"[^A-Za-z0-9_.-]+", "-", address).strip("-.") or "host"
        entry: dict[str, Any] = {"address": address}
        if user:
            entry["user"] = user
        if port and port.isdigit():
            entry["port"] = int(port)
        key, n = ident, 2
        while key in self.hosts and self.hosts[key] != entry:
            key, n = f"{ident}-{n}", n + 1
        self.hosts[key] = entry
        return key

    def param(self, name: str, prompt: str) -> str:
        """A blank the document leaves to fill in, asked when the incident starts (optional: a step
        that needs an empty one stops)."""
        ident = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        if not re.match(r"^[a-z]", ident):
            same = next((k for k, v in self.params.items() if v["prompt"] == prompt), None)
            ident = same or f"blank_{len(self.params) + 1}"
        self.params.setdefault(ident, {"prompt": safe(prompt)})
        if _SECRETISH.search(ident):
            self.params[ident]["secret"] = True  # `<password>`: asked, never shown or journaled
        return placeholder(ident)

    def secret(self, env: str) -> str:
        name = re.sub(r"[^a-z0-9_]+", "_", env.lower()).strip("_") or "secret"
        self.secrets[name] = {"env": env}
        return placeholder(name)


def notes(ctx: Context, line: int, extra: Sequence[str] = ()) -> str:
    return safe("\n".join([f"imported from {ctx.source}:{line}; review before use", *extra]))


def manual(ctx: Context, title: str, command: Command, why: str, extra: Sequence[str] = ()) -> dict[str, Any]:
    ctx.outcomes[command.line] = ("manual", why)
    return {
        "id": "",
        "title": safe(title),
        "kind": "manual",
        "instruction": safe(f"{why}; run by hand:\n{command.text}"),
        "notes": notes(ctx, command.line, [*extra]),
    }


_ELISION = re.compile(r"\.\.\.(?![\w\"'])|…(?![\"'])")
_ASSIGNED_BLANK = re.compile(r"\b([A-Za-z_]\w*)=([\"']?)(\S*(?:YYYY|xxx|<[\w-]+>)\S*?)\2(?=\s|$)", re.M)


def fill_blanks(text: str, ctx: Context) -> str | None:
    """Blanks (``<commit-hash>``, ``[备份文件名]``, ``BACKUP_DIR="YYYYMMDD_HHMMSS"``, ``YOUR_KEY``) as
    params or secrets; None when the document elides part of the command (``...``)."""
    if _ELISION.search(text):
        return None

    def assigned(match: re.Match[str]) -> str:
        name, quote, value = match.group(1), match.group(2), match.group(3)
        return f"{name}={quote}{ctx.param(name, f'{name} (the document writes {value})')}{quote}"

    text = _ASSIGNED_BLANK.sub(assigned, text)

    def blank(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.startswith("YOUR_"):
            return ctx.secret(word[5:])
        if word.startswith("<"):
            return ctx.param(word[1:-1].replace("-", "_"), word[1:-1])
        if word.startswith("["):
            return ctx.param("", word[1:-1])
        return ctx.param("", f"the document writes {word}")

    return re.sub(
        r"<[\w-]+>|\[[^\]\"'\s]*[\u4e00-\u9fff][^\]\"']*\]|YOUR_[A-Z0-9_]+|[\w./-]*(YYYY|\bxxx+\b)[\w./-]*", blank, text
    )


_NEVER_ENDS = "never ends by itself (it follows output)"
_NEEDS_TERMINAL = "needs a terminal (interactive)"


def why_manual(text: str) -> str | None:
    """Why a command cannot run unattended: it never ends or it needs a terminal."""
    if _ENDLESS.search(text):
        return _NEVER_ENDS
    if _INTERACTIVE.search(text):
        return _NEEDS_TERMINAL
    return None


def _rewritten(
    ctx: Context, title: str, command: Command, rewrite: Bounded, chunk: Chunk, check: bool, cwd: str | None
) -> dict[str, Any]:
    """A command rewritten to end by itself, as a step of its own that says what the document wrote."""
    kept = Chunk(chunk.title, [command], [*chunk.notes, rewrite.note], chunk.line)
    step = _local(ctx, title, [command], kept, check, cwd)
    if step["kind"] != "manual":
        step["timeout"] = rewrite.timeout
        ctx.rewrites[command.line] = rewrite.note
    return step


_SUDO = re.compile(r"^sudo\s+(-u\s+\S+\s+)?")
_PSQL_READS = re.compile(r"^psql\b[^|;&>]*\s-c\s+[\"']\s*(SELECT|SHOW|\\d)\b[^;]*[\"']\s*$", re.I)


_REPEATED = re.compile(r"^for _ in \$\(seq \d+\); do (.+); echo; sleep [\d.]+; done$")


def read_only(run: str) -> bool:
    commands = [_SUDO.sub("", line.strip()) for line in run.split("\n") if line.strip()]
    commands = [m.group(1) if (m := _REPEATED.match(c)) else c for c in commands]  # a watch made to end
    if commands and all(_PSQL_READS.match(c) for c in commands):
        return True
    return (
        bool(commands)
        and all(_READ_ONLY.match(c) or _curl_get(c) or _PSQL_READS.match(c) for c in commands)
        and not _WRITES.search(run)
    )


def _curl_get(line: str) -> bool:
    return bool(
        re.match(r"^curl(\s+(-[sSfLkiIv]+|-X\s+GET|-o\s+/dev/null|-w\s+\S+|--max-time\s+\d+|-m\s+\d+))*\s+\S+$", line)
    )


def command_steps(
    chunk: Chunk, ctx: Context, *, check: bool, cwd: str | None, plain: bool = False
) -> list[dict[str, Any]]:
    """Steps (or checks) for one chunk: consecutive plain shell commands stay one ``local`` step.
    ``plain``: a command whose output is captured stays a shell line (or ssh), never http or wait."""
    steps: list[dict[str, Any]] = []
    pending: list[Command] = []
    if chunk.together:
        chunk, why = _bounded_together(chunk, ctx)
        if why:
            return [_whole_manual(chunk, ctx, why)]

    def flush() -> None:
        if pending:
            title = chunk.title if not steps else ""
            steps.append(_local(ctx, title or pending[0].text.split("\n")[0][:60], pending, chunk, check, cwd))
            pending.clear()

    for command in chunk.commands:
        command = Command(_secrets_out(command.text, ctx), command.line)
        if login := _LOGIN.fullmatch(command.text.strip()):
            flush()
            ctx.remote = ctx.host(login.group(2), login.group(1))
            ctx.outcomes[command.line] = ("runnable", "ssh login: the steps after it run on the host")
            continue
        if ctx.remote and command.text.strip() in ("exit", "logout"):
            flush()
            ctx.remote = None
            ctx.outcomes[command.line] = ("runnable", "ssh logout")
            continue
        title = (chunk.title if not steps and not pending else "") or command.text.split("\n")[0][:60]
        if BLANKS.search(command.text) and not why_manual(command.text) and _ELISION.search(command.text) is None:
            command = Command(fill_blanks(command.text, ctx) or command.text, command.line)
        if chunk.alternative:
            flush()
            steps.append(manual(ctx, title, command, "another way to do the step before (never both)", chunk.notes))
            continue
        # a command that reads a variable the pending ones set runs in their shell, whatever it is
        reads = any(re.search(rf"\${{?{name}\b", command.text) for name in _assigned(pending))
        if reads and not chunk.together and (why := why_manual(command.text)):
            flush()
            steps.append(manual(ctx, title, command, why, chunk.notes))
            continue
        special = None if chunk.together or reads else _special(command, ctx, title, chunk, check, cwd, plain)
        if special is None:
            pending.append(command)
            if check and not chunk.together:  # one check per command: a writing one stops no other
                flush()
            continue
        flush()
        steps.append(special)
    flush()
    return steps


def _bounded_together(chunk: Chunk, ctx: Context) -> tuple[Chunk, str | None]:
    """Commands held in one shell (they share its variables): each that would never end rewritten
    to end, or why the block cannot run unattended at all."""
    commands, notes, rewrites = [], list(chunk.notes), {}
    for command in chunk.commands:
        if why := why_manual(command.text):
            rewrite = bounded(command.text, ctx.window, interactive=why == _NEEDS_TERMINAL)
            if rewrite is None or why_manual(rewrite.run):
                return chunk, (rewrite and why_manual(rewrite.run)) or why  # the command's own reason
            rewrites[command.line] = rewrite.note
            notes.append(rewrite.note)
            command = Command(rewrite.run, command.line)
        commands.append(command)
    ctx.rewrites.update(rewrites)
    return Chunk(chunk.title, commands, notes, chunk.line, chunk.alternative, together=True), None


def _whole_manual(chunk: Chunk, ctx: Context, why: str) -> dict[str, Any]:
    """A block that shares its shell's variables and holds a command that cannot run unattended:
    one manual step for the whole block (split, the variables would be lost)."""
    whole = Command("\n".join(c.text for c in chunk.commands), chunk.commands[0].line)
    step = manual(ctx, chunk.title or whole.text.split("\n")[0][:60], whole, why, chunk.notes)
    for command in chunk.commands:
        ctx.outcomes[command.line] = ("manual", why)
    return step


def _assigned(commands: list[Command]) -> set[str]:
    return {n for c in commands for n in re.findall(r"^\s*(?:export\s+|local\s+)?([A-Za-z_]\w*)=", c.text, re.M)}


_LOGIN = re.compile(r"(?:sudo\s+)?ssh(?:\s+-p\s*(\d+)|\s+-[tTqvA46C]+)*\s+((?:[\w.-]+@)?[\w.-]+)")


def _special(
    command: Command, ctx: Context, title: str, chunk: Chunk, check: bool, cwd: str | None, plain: bool = False
) -> dict[str, Any] | None:
    text = command.text
    why = why_manual(text)
    if why:
        rewrite = bounded(text, ctx.window, interactive=why == _NEEDS_TERMINAL)
        if rewrite is None or why_manual(rewrite.run):
            # a watched command that itself never ends or asks: its own reason
            return manual(ctx, title, command, (rewrite and why_manual(rewrite.run)) or why, chunk.notes)
        run = fill_blanks(rewrite.run, ctx) if BLANKS.search(rewrite.run) else rewrite.run
        if run is None:
            return manual(ctx, title, command, "part of it is left out (…)", chunk.notes)
        return _rewritten(ctx, title, Command(run, command.line), rewrite, chunk, check, cwd)
    if ctx.remote:
        return None  # logged in on a host: a shell line there, whatever it is
    if BLANKS.search(text):
        filled = fill_blanks(text, ctx)
        if filled is None:
            return manual(ctx, title, command, "part of it is left out (…)", chunk.notes)
        command = Command(filled, command.line)
        text = filled
    first = text.split("\n")[0]
    if re.match(r"^(sudo\s+)?ssh\s", first):
        return _ssh(command, ctx, title, chunk, check)
    if plain:
        return None
    if first.startswith("curl "):
        return _http(command, ctx, title, chunk, check)
    if (sleep := re.fullmatch(r"sleep\s+(\d+)([smh]?)", text.strip())) and not check:
        ctx.outcomes[command.line] = ("runnable", "wait")
        return {
            "id": "",
            "title": safe(title),
            "kind": "wait",
            "seconds": f"{sleep.group(1)}{sleep.group(2) or 's'}",
            "notes": notes(ctx, command.line, chunk.notes),
        }
    git = re.fullmatch(r"git\s+checkout\s+(?:tags/)?([\w][\w./-]*)", text.strip())
    if git and cwd and not check:
        ctx.outcomes[command.line] = ("runnable", "git")
        return {
            "id": "",
            "title": safe(title),
            "kind": "git",
            "repo": safe(cwd),
            "ref": placeholder("target_version") if git.group(1) == ctx.target_version else safe(git.group(1)),
            "checkout": True,
            "confirm": True,
            "notes": notes(ctx, command.line, chunk.notes),
        }
    return None


def _local(
    ctx: Context, title: str, commands: list[Command], chunk: Chunk, check: bool, cwd: str | None
) -> dict[str, Any]:
    if ctx.remote:
        return _on_remote(ctx, title, commands, chunk, check, cwd)
    run = _secrets_out("\n".join(c.text for c in commands), ctx)
    if check and not read_only(run) and not ctx.verifying:
        return _would_change(ctx, title, [c.line for c in commands], run, chunk)
    for c in commands:
        ctx.outcomes[c.line] = ("runnable", "local")
    step: dict[str, Any] = {"id": "", "title": safe(title), "kind": "local", "run": safe(run)}
    if cwd:
        step["cwd"] = safe(cwd)
    if check:
        step["severity"] = "warning"
    if not check or (ctx.verifying and not read_only(run)):
        step["confirm"] = not read_only(run)  # a verification that changes something asks first
    step["notes"] = notes(ctx, commands[0].line, chunk.notes)
    return step


def _on_remote(
    ctx: Context, title: str, commands: list[Command], chunk: Chunk, check: bool, cwd: str | None
) -> dict[str, Any]:
    """Commands the document runs in a login shell on a host, as an ``ssh`` step there."""
    run = "\n".join(c.text for c in commands)
    if cwd:
        run = f"cd {shlex.quote(cwd)} && {run}" if "\n" not in run else f"cd {shlex.quote(cwd)}\n{run}"
    if check and not read_only(run) and not ctx.verifying:
        return _would_change(ctx, title, [c.line for c in commands], run, chunk, on=ctx.remote)
    for c in commands:
        ctx.outcomes[c.line] = ("runnable", "ssh")
    step: dict[str, Any] = {"id": "", "title": safe(title), "kind": "ssh", "host": ctx.remote, "run": safe(run)}
    if check:
        step["severity"] = "warning"
    if not check or (ctx.verifying and not read_only(run)):
        step["confirm"] = not read_only(run)
    step["notes"] = notes(ctx, commands[0].line, chunk.notes)
    return step


WOULD_CHANGE = "a check never changes anything; this would"


def _would_change(
    ctx: Context, title: str, lines: list[int], shown: str, chunk: Chunk, on: str | None = None
) -> dict[str, Any]:
    """A command a pre-check would run that changes something: a manual step to confirm by hand."""
    for line in lines:
        ctx.outcomes[line] = ("manual", WOULD_CHANGE)
    where = f" on {on}" if on else ""
    return {
        "id": "",
        "title": safe(title),
        "kind": "manual",
        "instruction": safe(f"{WOULD_CHANGE}. Confirm by hand{where}:\n{shown}"),
        "notes": notes(ctx, lines[0], chunk.notes),
    }


def _secrets_out(run: str, ctx: Context) -> str:
    """``export STRIPE_SECRET_KEY=sk_live_…`` reads the secret from the environment instead."""

    def swap(match: re.Match[str]) -> str:
        name, value = match.group(2), match.group(3)
        if not _SECRETISH.search(name) or value.startswith("$") or not value.strip("'\""):
            return match.group(0)
        return f"{match.group(1)}{name}={ctx.secret(name)}"

    run = re.sub(r"(^|\s|export\s+)([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|\"[^\"]*\"|\S+)", swap, run, flags=re.M)

    def in_url(match: re.Match[str]) -> str:  # postgresql://admin:s3cret@db/app
        if match.group(3).startswith(("$", "\x00")) or BLANKS.fullmatch(match.group(3)):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}:{ctx.secret(match.group(1).split(':')[0].upper() + '_PASSWORD')}@"

    run = re.sub(r"\b([a-z][a-z0-9+.-]*://)([^:/\s@'\"]+):([^@\s'\"]+)@", in_url, run)

    def flag(match: re.Match[str]) -> str:  # --password=s3cret, curl -u user:s3cret
        if match.group(3).startswith(("$", "\x00")):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{ctx.secret('PASSWORD')}"

    run = re.sub(r"(--password[= ]|--pass[= ]|--token[= ]|--api-key[= ])()(['\"]?[^\s'\"]+['\"]?)", flag, run)
    run = re.sub(r"((?:^|\s)(?:-u|--user)\s+)([^:\s'\"]+:)([^\s'\"]+)", flag, run)

    def in_json(match: re.Match[str]) -> str:  # curl … -d '{"password": "test123"}'
        key = re.sub(r"[^A-Za-z0-9]+", "_", match.group(2)).upper()
        return f"{match.group(1)}{ctx.secret(f'API_{key}')}{match.group(4)}"

    secretish = r"[A-Za-z_]*(?:passw(?:or)?d|secret|token|api_?key)[A-Za-z_]*"
    # the value is a credential, not a pattern (`grep -o '"token":"[^"]*"'` reads one, it holds none)
    return re.sub(rf"(\"({secretish})\"\s*:\s*\")([^\"$\x00\[\]*^\\]+)(\")", in_json, run, flags=re.I)


def _ssh(command: Command, ctx: Context, title: str, chunk: Chunk, check: bool) -> dict[str, Any] | None:
    lines = command.text.split("\n")
    heredoc = re.search(r"<<-?\s*(['\"]?)(\w+)\1\s*$", lines[0])
    head = lines[0][: heredoc.start()] if heredoc else command.text.replace("\\\n", " ")
    try:
        words = shlex.split(head)
    except ValueError:
        return None
    if words[0] == "sudo":
        words = words[1:]
    port = None
    i = 1
    while i < len(words) and words[i].startswith("-"):
        if words[i] in ("-p", "-i", "-J", "-o", "-l", "-F") and i + 1 < len(words):
            if words[i] == "-p":
                port = words[i + 1]
            elif words[i] != "-o":
                return None  # an identity, jump or login the host entry cannot say here: keep it a shell line
            i += 2
        elif re.fullmatch(r"-[tTqnNvCA46]+", words[i]):
            i += 1
        else:
            return None
    if i >= len(words):
        return None
    target, rest = words[i], words[i + 1 :]
    if heredoc:
        body = lines[1:-1] if lines[-1].strip() == heredoc.group(2) else lines[1:]
        run = "\n".join(_dedent(body)).strip()
    elif rest:
        run = rest[0] if len(rest) == 1 else shlex.join(rest)
    else:
        return None
    run = _secrets_out(run, ctx)
    host = ctx.host(target, port)
    if title.startswith("ssh "):
        title = f"在 {host} 上执行 / run on {host}"
    step: dict[str, Any] = {"id": "", "title": safe(title), "kind": "ssh", "host": host, "run": safe(run)}
    if check and not read_only(run) and not ctx.verifying:
        return _would_change(ctx, title, [command.line], command.text, chunk)
    if check:
        step["severity"] = "warning"
    if not check or (ctx.verifying and not read_only(run)):
        step["confirm"] = not read_only(run)
    step["notes"] = notes(ctx, command.line, chunk.notes)
    ctx.outcomes[command.line] = ("runnable", "ssh")
    return step


def _dedent(lines: list[str]) -> list[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in lines]


_CURL_FLAGS = frozenset("sSfLkiv")


def _http(command: Command, ctx: Context, title: str, chunk: Chunk, check: bool) -> dict[str, Any] | None:
    text = command.text.replace("\\\n", " ")
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:
        return None
    if any(w in ("|", "||", "&&", ";", ">", ">>", "<", "&") for w in words) or "`" in text or "$(" in text:
        return None
    method, url, headers, body, timeout, insecure = "", "", {}, None, None, False
    i = 1
    while i < len(words):
        word = words[i]
        value = words[i + 1] if i + 1 < len(words) else ""
        if word in ("-X", "--request"):
            method, i = value.upper(), i + 2
        elif word in ("-H", "--header"):
            name, _, val = value.partition(":")
            headers[name.strip()] = val.strip()
            i += 2
        elif word in ("-d", "--data", "--data-raw", "--data-binary", "--json"):
            body = value
            if word == "--json":
                headers.setdefault("Content-Type", "application/json")
            i += 2
        elif word in ("-m", "--max-time"):
            timeout, i = value, i + 2
        elif word in ("-o",) and value == "/dev/null":
            i += 2
        elif word in ("-k", "--insecure"):
            insecure, i = True, i + 1
        elif word in ("--silent", "--show-error", "--fail", "--location") or (
            re.fullmatch(r"-[a-zA-Z]+", word) and set(word[1:]) <= _CURL_FLAGS
        ):
            insecure = insecure or "k" in word
            i += 1
        elif not word.startswith("-") and not url:
            url, i = word, i + 1
        else:
            return None  # a flag http steps cannot say (-w, -u, -F, …): keep it a shell line
    if not re.match(r"^https?://[^\s$`]+$", url):
        return None
    step: dict[str, Any] = {"id": "", "title": safe(title), "kind": "http"}
    method = method or ("POST" if body is not None else "GET")
    if method not in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        return None
    if method != "GET":
        step["method"] = method
    step["url"] = safe(url)
    if headers:
        step["headers"] = {safe(k): _header_value(v, k, ctx) for k, v in headers.items()}
    if body is not None:
        if "$" in body:
            return None
        try:
            step["json"] = _json_secrets(
                json.loads(body, strict=False), ctx
            )  # not strict: a secret moved out leaves a marker (a control character)
        except ValueError:
            step["body"] = safe(body)
    if timeout and timeout.isdigit():
        step["timeout"] = f"{timeout}s"
    if insecure:
        step["verify_tls"] = False
    expected = _expected(chunk.notes)
    step.update(expected)
    if check and method not in ("GET", "HEAD") and ctx.verifying:
        step["confirm"] = True
    elif check:
        if method not in ("GET", "HEAD"):
            return _would_change(ctx, title, [command.line], command.text, chunk)
        step["severity"] = "warning"
    else:
        step["confirm"] = method not in ("GET", "HEAD")
    step["notes"] = notes(ctx, command.line, chunk.notes)
    ctx.outcomes[command.line] = ("runnable", "http")
    return step


_JQ = re.compile(
    r"^(?P<curl>curl\s.+?)\s*\|\s*jq\s+(?:-r\s+)?(?P<q>['\"]?)\.(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?P=q)\s*$",
    re.S,
)
_GREP_KEY = re.compile(
    r"^(?P<curl>curl\s.+?)\s*\|\s*grep\s+-o\s+'\"(?P<path>[A-Za-z_]\w*)\":\s*\"\[\^\"\]\*\"'\s*\|\s*cut\s+-d\s*'\"'\s+-f\s*4\s*$",
    re.S,
)


def captured_http(chunk: Chunk, ctx: Context, name: str, *, check: bool) -> dict[str, Any] | None:
    """``NAME=$(curl … | jq -r .data.token)`` (or ``| grep -o '"token":"[^"]*"' | cut -d'"' -f4``)
    as an http step that captures ``json:data.token``; None when the use is not that plain."""
    if len(chunk.commands) != 1:
        return None
    command = chunk.commands[0]
    text = command.text.replace("\\\n", " ")
    match = _JQ.match(text) or _GREP_KEY.match(text)
    if not match:
        return None
    curl = Command(_secrets_out(match.group("curl"), ctx), command.line)
    step = _http(curl, ctx, chunk.title or curl.text.split("\n")[0][:60], chunk, check)
    if step is None or step["kind"] != "http":
        if step is not None:  # a check that would change something: the shell line is judged again
            ctx.outcomes.pop(command.line, None)
        return None
    step["capture"] = {name: f"json:{match.group('path')}"}
    return step


def _json_secrets(value: Any, ctx: Context) -> Any:
    """A credential in a JSON body (``{"password": "test123"}``) is read from the environment."""
    if isinstance(value, dict):
        return {
            k: ctx.secret(f"API_{re.sub(r'[^A-Za-z0-9]+', '_', k).upper()}")
            if isinstance(v, str) and v and _SECRETISH.search(k)
            else _json_secrets(v, ctx)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_json_secrets(v, ctx) for v in value]
    return value


def _header_value(value: str, name: str, ctx: Context) -> str:
    """A credential in a header (``YOUR_ADMIN_KEY``, ``$TOKEN``, ``Bearer xxx``) becomes a secret."""
    scheme, _, credential = value.rpartition(" ")
    if "\x00" in value:
        return value  # a value an earlier step captured (`Bearer $TOKEN` after TOKEN=$(…)): no secret
    env = None
    if var := re.fullmatch(r"\$\{?([A-Za-z_]\w*)\}?", credential):
        env = var.group(1)
    elif your := re.fullmatch(r"YOUR_([A-Z0-9_]+)", credential):
        env = your.group(1)
    elif _SECRETISH.search(name) or scheme.lower() in ("bearer", "basic", "token"):
        env = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
    if env is None:
        return safe(value)
    return (f"{scheme} " if scheme else "") + ctx.secret(env)


def _expected(extra: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for note in extra:
        if "{" in note:
            try:
                body = json.loads(note[note.index("{") : note.rindex("}") + 1])
            except ValueError:
                continue
            if isinstance(body, dict):
                scalars = {
                    k: safe(v) if isinstance(v, str) else v
                    for k, v in body.items()
                    if isinstance(v, str | int | float | bool) and "..." not in str(v)
                }
                if scalars:
                    found["expect_json"] = scalars
        elif status := re.search(r"\b([1-5]\d\d)\b", note):
            found["expect_status"] = int(status.group(1))
    return found


def sql_steps(chunk: Chunk, ctx: Context, *, check: bool) -> list[dict[str, Any]]:
    """One ``sql`` step per statement (each runs in its own transaction), on the document's DSN."""
    steps: list[dict[str, Any]] = []
    for n, command in enumerate(chunk.commands):
        text = command.text
        title = (chunk.title if n == 0 else "") or text.split("\n")[0][:60]
        if text.startswith("\\i ") or text.startswith("\\ir "):
            path = text.split(None, 1)[1].rstrip(";").strip()
            ctx.outcomes[command.line] = ("runnable", "local")
            steps.append(
                {
                    "id": "",
                    "title": safe(title),
                    "kind": "local",
                    "confirm": True,
                    "run": safe(f'psql "${ctx.dsn_env}" -v ON_ERROR_STOP=1 -f {shlex.quote(path)}'),
                    "notes": notes(ctx, command.line, chunk.notes),
                }
            )
            continue
        why = None
        if text.startswith("\\"):
            why = "a psql meta-command"
        elif ctx.mysql:
            why = "MySQL: rbconsole has no MySQL executor (sql steps speak PostgreSQL)"
        elif re.search(r"\$\(|\$\{|`", text):
            why = "shell substitution inside SQL"
        elif BLANKS.search(text):
            why = "has blanks to fill in"
        reads = bool(_SQL_READS.match(text)) and ";" not in text.rstrip().rstrip(";")
        if not why and check and not reads:
            why = WOULD_CHANGE
        if why:
            steps.append(manual(ctx, title, command, why, chunk.notes))
            continue
        step: dict[str, Any] = {
            "id": "",
            "title": safe(title),
            "kind": "sql",
            "dsn_env": ctx.dsn_env,
            "query": safe(text),
        }
        if check:
            step["severity"] = "warning"
        else:
            step["confirm"] = not reads
            if reads:
                step["read_only"] = True
        step["notes"] = notes(ctx, command.line, chunk.notes)
        ctx.outcomes[command.line] = ("runnable", "sql")
        steps.append(step)
    return steps
