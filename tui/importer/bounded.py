"""Commands that never end by themselves or ask for a terminal, rewritten so that they end, where
the rewrite keeps what the document meant by them.

- ``kubectl get pods … -w`` (watch until the pods are up) → ``kubectl wait --for=condition=Ready``
  with a timeout; ``kubectl rollout status … -w`` waits for the rollout anyway → ``--timeout``.
- ``watch CMD`` under a section that says how long to watch ("Monitor Stability (5 min)") → CMD
  every interval for that long; ``watch kubectl get pods`` → the wait above. Without a stated
  window → CMD once (the snapshot the operator wanted); it stays a manual step only where CMD
  itself never ends or needs a terminal.
- ``logs -f`` / ``tail -f`` / ``journalctl -f`` / ``pm2 logs`` → the latest lines, once.
- ``kubectl|docker exec -it X -- CMD`` → without ``-t`` when CMD runs by itself (not a shell or a
  client waiting for input).

Each rewrite says what the document wrote and what runs instead (the step's note), and how long
it may take (the step's timeout is set above that).
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass

DEFAULT_SECONDS = 300  # a wait the document gives no window for: the step timeout the format defaults to
LOG_LINES = 100
ONCE_SECONDS = 60  # a command run once instead of watched: what one look should take at most


@dataclass(frozen=True)
class Bounded:
    run: str
    note: str
    seconds: int  # the longest the rewritten command may take

    @property
    def timeout(self) -> str:
        return f"{self.seconds + 60}s"  # room for the command's own end before the step's timeout


def bounded(text: str, window_minutes: float | None, interactive: bool) -> Bounded | None:
    """``text`` rewritten to end by itself, or None when no rewrite keeps its intent.
    ``interactive``: the command was judged to need a terminal (else: never to end)."""
    if "\n" in text.replace("\\\n", " "):
        return None  # a block of several commands: each is judged on its own line, not here
    flat = text.replace("\\\n", " ")
    seconds = int(window_minutes * 60) if window_minutes else DEFAULT_SECONDS
    if interactive:
        return _exec(flat)
    for rewrite in (_rollout_status, _get_watch, _logs, _tail, _journal, _pm2):
        found = rewrite(flat, seconds)
        if found:
            return found
    return _watch(flat, window_minutes)


_SUDO = r"^(?P<sudo>sudo\s+)?"
_WATCH_FLAG = re.compile(r"\s(-w|--watch)(=true)?(?=\s|$)")


def _said(text: str) -> str:
    return f"the document says `{text.strip()}`"


def _rollout_status(text: str, seconds: int) -> Bounded | None:
    if not re.match(_SUDO + r"(kubectl|oc)\s+rollout\s+status\b", text) or not _WATCH_FLAG.search(text):
        return None
    run = _WATCH_FLAG.sub("", text).rstrip()
    if "--timeout" not in run:
        run += f" --timeout={seconds}s"
    note = f"{_said(text)}; rollout status waits until the rollout is done anyway, here for at most {seconds}s"
    return Bounded(run, note, seconds)


_GET_PODS = re.compile(_SUDO + r"(?P<cli>kubectl|oc)\s+get\s+(?P<kind>pods?|po)\b(?P<rest>.*)$")


def _get_watch(text: str, seconds: int) -> Bounded | None:
    match = _GET_PODS.match(text)
    if not match or not _WATCH_FLAG.search(text) or "|" in text:
        return None
    return _pods_ready(match, text, seconds, _said(text))


def _pods_ready(match: re.Match[str], text: str, seconds: int, said: str) -> Bounded | None:
    rest = _WATCH_FLAG.sub("", match.group("rest"))
    rest = re.sub(r"\s(-o|--output)(\s+|=)\S+", "", rest)  # a watch's columns: kubectl wait prints its own
    try:
        words = shlex.split(rest)
    except ValueError:
        return None
    named = any(not w.startswith("-") for w in _positional(words))
    selector = any(w in ("-l", "--selector") or w.startswith(("--selector=", "-l=")) for w in words)
    run = f"{match.group('sudo') or ''}{match.group('cli')} wait --for=condition=Ready pods{rest.rstrip()}"
    if not named and not selector and "--all" not in words:
        run += " --all"
    run += f" --timeout={seconds}s"
    note = f"{said}, watching until the pods are up; here it waits until they are Ready, at most {seconds}s"
    return Bounded(run, note, seconds)


_VALUED = frozenset({"-n", "--namespace", "-l", "--selector", "-o", "--output", "--context", "--field-selector"})
_DOCKER_VALUED = frozenset({"-u", "--user", "-w", "--workdir", "-e", "--env", "--env-file"})


def _positional(words: list[str], valued: frozenset[str] = _VALUED) -> list[str]:
    """The words that are not options or option values; from the first one on, every word."""
    out: list[str] = []
    skip = False
    for word in words:
        if out:
            out.append(word)
        elif skip:
            skip = False
        elif word in valued:
            skip = True
        elif not word.startswith("-"):
            out.append(word)
    return out


_LOGS = re.compile(_SUDO + r"(docker(-compose)?|kubectl|oc|podman)\s+(\S+\s+)*?logs\b")
_FOLLOW = re.compile(r"\s(-f|--follow)(=true)?(?=\s|$)")


def _logs(text: str, seconds: int) -> Bounded | None:
    head = _LOGS.match(text)
    if not head or not _FOLLOW.search(text.split("|")[0]):
        return None
    first, bar, piped = text.partition("|")
    run = _FOLLOW.sub("", first, count=1)
    if not re.search(r"\s(--tail|--since|-n)(\s|=|\d)", run):
        end = head.end()
        run = f"{run[:end]} --tail={LOG_LINES}{run[end:]}"
    run = run.rstrip() + (f" |{piped}" if bar else "")
    note = f"{_said(text)}, following the log until stopped; here its latest lines, once"
    return Bounded(run, note, 60)


def _tail(text: str, seconds: int) -> Bounded | None:
    match = re.match(_SUDO + r"tail\s+(?P<args>.*)$", text.split("|")[0].rstrip())
    if not match:
        return None
    words = match.group("args").split()
    follow = [w for w in words if re.fullmatch(r"-[a-zA-Z0-9]*[fF][a-zA-Z0-9]*|--follow(=\w+)?", w)]
    if not follow:
        return None
    kept = [re.sub("[fF]", "", w) for w in words if w not in follow or re.sub("[fF]", "", w) != "-"]
    kept = [w for w in kept if w != "-"]
    if not any(re.match(r"-n|--lines|-\d", w) for w in kept):
        kept.insert(0, f"-n {LOG_LINES}")
    piped = text[len(text.split("|")[0]) :]
    run = f"{match.group('sudo') or ''}tail {' '.join(kept)}{' ' + piped.strip() if piped else ''}"
    note = f"{_said(text)}, following the file until stopped; here its latest lines, once"
    return Bounded(run, note, 60)


def _journal(text: str, seconds: int) -> Bounded | None:
    if not re.match(_SUDO + r"journalctl\b", text) or not _FOLLOW.search(text.split("|")[0]):
        return None
    run = _FOLLOW.sub("", text, count=1).rstrip()
    if not re.search(r"\s(-n|--lines|--since|-S)(\s|=|\d)", run):
        run += f" -n {LOG_LINES}"
    run += " --no-pager"
    note = f"{_said(text)}, following the journal until stopped; here its latest lines, once"
    return Bounded(run, note, 60)


def _pm2(text: str, seconds: int) -> Bounded | None:
    if not re.match(_SUDO + r"pm2\s+logs\b", text) or "--nostream" in text or "|" in text:
        return None
    run = text.rstrip() + " --nostream"
    if "--lines" not in run:
        run += f" --lines {LOG_LINES}"
    note = f"{_said(text)}, streaming the logs until stopped; here their latest lines, once"
    return Bounded(run, note, 60)


_WATCH = re.compile(r"^watch\s+")
_WATCH_FLAGS = re.compile(r"-[dtbecx]+|--differences|--no-title|--beep|--color")
_WATCH_INTERVAL = re.compile(r"(?:-n\s*|--interval[= ]\s*)(\d+(?:\.\d+)?)")


def _watch(text: str, window_minutes: float | None) -> Bounded | None:
    match = _WATCH.match(text)
    if not match:
        return None
    interval = 2.0  # watch's own default
    at = match.end()
    while True:  # watch's options, then the command it repeats
        option = _WATCH_INTERVAL.match(text, at) or _WATCH_FLAGS.match(text, at)
        if not option or (option.end() < len(text) and not text[option.end()].isspace()):
            break
        if option.re is _WATCH_INTERVAL:
            interval = float(option.group(1))
        at = option.end()
        at += len(text[at:]) - len(text[at:].lstrip())
    if interval <= 0:
        return None
    rest = text[at:].strip()
    try:
        words = shlex.split(rest)
    except ValueError:
        return None
    inner = words[0] if len(words) == 1 else rest  # `watch 'cmd args'` or `watch cmd args`
    pods = _GET_PODS.match(inner)
    if pods and "|" not in inner:
        seconds = int(window_minutes * 60) if window_minutes else DEFAULT_SECONDS
        return _pods_ready(pods, inner, seconds, _said(text))
    if not inner:
        return None
    if not window_minutes:
        # no end the document gives: the snapshot it wanted, once; watching longer is the operator's call
        note = (
            f"{_said(text)} with no time to watch for in its section; here `{inner}` runs once (what watch "
            f"shows first) — run the watch by hand to follow it longer"
        )
        return Bounded(inner, note, ONCE_SECONDS)
    seconds = int(window_minutes * 60)
    rounds = max(1, math.ceil(seconds / interval))
    pause = f"{interval:g}"
    run = f"for _ in $(seq {rounds}); do {inner}; echo; sleep {pause}; done"
    note = f"{_said(text)} for the section's {window_minutes:g} min; here it runs every {pause}s for that long"
    return Bounded(run, note, seconds + math.ceil(interval))


_EXEC = re.compile(_SUDO + r"(?P<cli>kubectl|oc|docker|docker-compose|podman)\s+(?P<verb>exec)\s+")
_TTY = re.compile(r"(?<=\s)(-it|-ti|-t)(?=\s)|(?<=\s)--tty(=true)?(?=\s)")
_SHELLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "fish", "/bin/sh", "/bin/bash"})
_CLIENTS = frozenset({"psql", "mysql", "redis-cli", "mongo", "mongosh", "sqlite3", "python", "python3", "node", "irb"})


def _exec(text: str) -> Bounded | None:
    """``exec -it X -- CMD`` without the terminal when CMD runs by itself."""
    match = _EXEC.match(text)
    if not match:
        return None
    try:
        words = shlex.split(text[match.end() :])
    except ValueError:
        return None
    # kubectl exec … -- CMD; docker exec [options] CONTAINER CMD
    inner = words[words.index("--") + 1 :] if "--" in words else _positional(words, _DOCKER_VALUED)[1:]
    if not inner or not _runs_by_itself(inner) or re.search(r"(?<![<])<(?!<)|\|", text[: match.end()]):
        return None
    tail = text[match.end() - 1 :]
    stdin = bool(re.search(r"\s<(?!<)\s*(?![\w-]+>)\S", text))  # `< dump.sql`, not a `<blank>`
    replaced = _TTY.sub("-i" if stdin else "", tail, count=1)
    if replaced == tail:
        return None
    run = re.sub(r"  +", " ", text[: match.end() - 1] + replaced)
    note = f"{_said(text)}; the command it runs needs no terminal, so here without -t"
    return Bounded(run, note, DEFAULT_SECONDS)


def _runs_by_itself(inner: list[str]) -> bool:
    """A command in the container that ends by itself: not a bare shell or client awaiting input."""
    program = inner[0]
    args = inner[1:]
    if program in _SHELLS:
        return "-c" in args
    if program in _CLIENTS:
        if program == "redis-cli":
            return _redis_command(args)
        if program in ("psql", "mysql", "mongo", "mongosh", "sqlite3"):
            if "-p" in args and program == "mysql":
                return False  # asks for the password
            return any(a in ("-c", "--command", "-e", "--execute", "-f", "--file", "--eval") for a in args) or (
                program == "sqlite3" and len([a for a in args if not a.startswith("-")]) >= 2
            )
        return len(args) > 0 and not all(a.startswith("-") for a in args)
    return True


_REDIS_VALUED = frozenset({"-h", "-p", "-a", "-n", "-u", "-s", "--user", "--pass", "--tls-cert", "--tls-key"})


def _redis_command(args: list[str]) -> bool:
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _REDIS_VALUED:
            skip = True
        elif not arg.startswith("-"):
            return True  # `redis-cli ping`, `redis-cli -a pw FLUSHALL`: runs that command and ends
    return False
