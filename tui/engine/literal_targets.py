"""Targets written literally in a command's text: ``curl https://prod.example.com``,
``ssh prod-db-1``, ``psql -h db.prod``, ``kubectl --context prod``.

No profile can redirect them (only a value from a var can be redirected), so a fenced run
lists them with where they are written. Text that comes from a placeholder is not looked at
here: its var is a target of its own. Loopback (``localhost``, ``127.0.0.1``, ``::1``) is the
machine the command runs on, not production.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tui.runbook.placeholders import PLACEHOLDER

# The value of a flag or argument that is a placeholder or a shell variable is not literal.
_NOT_LITERAL = re.compile(r"\{\{|\$|`")
_LOOPBACK = re.compile(r"^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|0\.0\.0\.0)$", re.IGNORECASE)
_URL = re.compile(r"(?<![\w.+-])([a-z][a-z0-9+.-]*)://([^\s'\"/?#]+)", re.IGNORECASE)
_NOT_NETWORK = frozenset({"file", "unix", "data"})
# One simple command: up to a separator (; && || | newline or a subshell's parenthesis).
_SEGMENT = re.compile(r"[^;&|\n()]+")
_WORD = re.compile(r"""(?:'[^']*'|"[^"]*"|[^\s'"])+""")

_DB_TOOLS = frozenset(
    {"psql", "pg_dump", "pg_dumpall", "pg_restore", "pg_basebackup", "pg_isready"}
    | {"mysql", "mysqldump", "mariadb", "mariadb-dump", "redis-cli", "mongo", "mongosh", "mongodump", "mongorestore"}
)
_SSH_TOOLS = frozenset({"ssh", "sftp"})
_COPY_TOOLS = frozenset({"scp", "rsync"})
# ssh options that take an argument (ssh(1)); the first other word is the destination.
_SSH_ARG_OPTIONS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_KUBE_FLAGS = {
    "kubectl": {
        "--context": "kube context",
        "--cluster": "kube cluster",
        "--server": "kube server",
        "-s": "kube server",
    }
    | {"--kubeconfig": "kubeconfig"},
    "helm": {"--kube-context": "kube context", "--kubeconfig": "kubeconfig", "--kube-apiserver": "kube server"},
    "docker": {"-H": "docker host", "--host": "docker host", "--context": "docker context", "-c": "docker context"},
}
_DB_HOST_FLAGS = ("-h", "--host")
_SSH_CONFIG = "$RBCONSOLE_SSH_CONFIG"
CURRENT_CONTEXT = "the current context"  # kubectl / helm with no --context: whatever this machine has
_WRAPPERS = frozenset({"sudo", "env", "timeout", "nohup", "exec", "time", "command", "nice", "stdbuf", "doas"})
_WRAPPER_ARG_OPTIONS = frozenset({"-u", "-g", "-k", "-s", "-n"})


@dataclass(frozen=True)
class Literal:
    index: int  # where in the command text it is written
    kind: str  # "URL", "ssh host", "database host", "kube context" ...
    value: str  # as written (a URL as scheme://host:port, its user and path left out)
    via_ssh_config: bool = False  # ssh -F "$RBCONSOLE_SSH_CONFIG": the session's ssh_config resolves it


def _unquote(word: str) -> str:
    return word.replace('"', "").replace("'", "")


def _literal(value: str) -> bool:
    return bool(value) and not _NOT_LITERAL.search(value) and not _LOOPBACK.match(value.strip("[]"))


def _url_host(authority: str) -> tuple[str, str]:
    """(host, ":port" or "") of a URL's authority, its userinfo (perhaps a password) dropped."""
    hostport = authority.rsplit("@", 1)[-1]
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        return host, rest if rest.startswith(":") else ""
    host, colon, port = hostport.partition(":")
    return host, f":{port}" if colon and port.isdigit() else ""


def find(command: str, *, local: bool) -> Iterator[Literal]:
    """Every literal target in ``command`` (a template: placeholders are left as written).
    ``local``: it runs on this machine, where kubectl without a context acts on whatever
    context this machine has current (on a host, that host's own)."""
    # A placeholder becomes one word of the same length, so offsets still point into ``command``.
    command = PLACEHOLDER.sub(lambda m: "{{" + "_" * (len(m.group(0)) - 4) + "}}", command)
    seen: set[int] = set()
    for found in _find(command, local):
        if found.index not in seen:
            seen.add(found.index)
            yield found


def _find(command: str, local: bool) -> Iterator[Literal]:
    for match in _URL.finditer(command):
        scheme, authority = match.group(1).lower(), match.group(2)
        if scheme in _NOT_NETWORK or _NOT_LITERAL.search(authority):
            continue
        host, port = _url_host(authority)
        if _literal(host):
            yield Literal(match.start(), "URL", f"{scheme}://{host}{port}")
    for segment in _SEGMENT.finditer(command):
        words = [(m.start() + segment.start(), _unquote(m.group(0))) for m in _WORD.finditer(segment.group(0))]
        yield from _in_simple_command(words, local)


def _command_word(words: list[tuple[int, str]]) -> int | None:
    """Where the program of a simple command is: past assignments and wrappers (sudo -u x, env, timeout 5)."""
    j = 0
    while j < len(words):
        word = words[j][1]
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word) or word.startswith("-"):
            j += 1 + (word in _WRAPPER_ARG_OPTIONS and j + 1 < len(words))
        elif word.rsplit("/", 1)[-1] in _WRAPPERS or re.fullmatch(r"\d+[smhd]?", word):
            j += 1
        else:
            return j
    return None


def _in_simple_command(words: list[tuple[int, str]], local: bool) -> Iterator[Literal]:
    i = _command_word(words)
    if i is not None:
        tool, rest = words[i][1].rsplit("/", 1)[-1], words[i + 1 :]
        if tool in _DB_TOOLS:
            yield from _flag_values(rest, dict.fromkeys(_DB_HOST_FLAGS, "database host"))
            for at, word in rest:
                for found in re.finditer(r"(?:^|\s)host=([^\s]+)", word):
                    if _literal(found.group(1)):
                        yield Literal(at, "database host", found.group(1))
        elif tool in _KUBE_FLAGS:
            yield from _flag_values(rest, _KUBE_FLAGS[tool])
            chosen = {w.partition("=")[0] for _, w in words} & (set(_KUBE_FLAGS[tool]) | {"KUBECONFIG"})
            if local and tool != "docker" and not chosen:
                yield Literal(words[i][0], "kube context", CURRENT_CONTEXT)
        elif tool in _SSH_TOOLS:
            yield from _ssh_destination(rest)
        elif tool in _COPY_TOOLS:
            via = any(word == _SSH_CONFIG for _, word in rest)
            for at, word in rest:
                remote = re.match(r"^(?:[^@\s/:]+@)?([A-Za-z0-9_.-]+):(?!//)", word)
                if remote and _literal(remote.group(1)):
                    yield Literal(at, "ssh host", remote.group(1), via)


def _flag_values(words: list[tuple[int, str]], flags: dict[str, str]) -> Iterator[Literal]:
    for j, (at, word) in enumerate(words):
        flag, eq, value = word.partition("=")
        if flag in flags and eq and flag.startswith("--"):
            if _literal(value):
                yield Literal(at, flags[flag], value)
        elif word in flags and j + 1 < len(words):
            value = words[j + 1][1]
            if _literal(value):
                yield Literal(words[j + 1][0], flags[word], value)
        elif word[:2] in flags and len(word) > 2 and not word.startswith("--") and _literal(word[2:]):
            yield Literal(at, flags[word[:2]], word[2:])


def _ssh_destination(words: list[tuple[int, str]]) -> Iterator[Literal]:
    via = any(word == _SSH_CONFIG for _, word in words)
    j = 0
    while j < len(words):
        at, word = words[j]
        if word.startswith("-") and len(word) > 1:
            # "-p 22" takes the next word; "-p22" and "-vT" do not
            j += 2 if len(word) == 2 and word[1] in _SSH_ARG_OPTIONS else 1
            continue
        host = word.removeprefix("ssh://").rsplit("@", 1)[-1].split(":", 1)[0]
        if _literal(host):
            yield Literal(at, "ssh host", host, via)
        return
