"""Literals that recur in a document's commands as ``[vars]``: the Kubernetes namespace and
deployment, the database host, the services the commands start and stop, the application's
directories, the versions. A profile or ``--var`` can then point the whole runbook elsewhere
(``namespace = "staging"``) instead of every command being edited by hand.

A literal becomes a var only when two or more steps use it, it is a plain value (no quoting, glob
or expansion can change what it means), and the placeholder lands where the shell reads it as the
same word (``tui.runbook.placeholders.render_shell`` accepts it, as it would at run time); a step
where it would not stays as the document wrote it. A version the document states as its current or
target version is that placeholder instead of a var of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tui.importer.steps import placeholder
from tui.runbook.placeholders import RenderError, Value, render_shell

_PLAIN = re.compile(r"[\w.,:/@%+=-]+")
_MARKER = re.compile("\x00([A-Za-z0-9_]+)\x00")

# (the word before, the name for what follows it): a flag or verb that says what its value is
_KUBE = r"(?:kubectl|helm|oc)\b[^\n|;&]*?"
_FLAGGED = (
    (re.compile(_KUBE + r"\s(?:-n|--namespace)[= ]([\w.-]+)"), "namespace"),
    (re.compile(r"\b(?:deployment|deploy)(?:\.apps)?/([\w.-]+)"), "deployment"),
    (re.compile(r"\b(?:rollout\s+\w+|scale|set\s+image)\s+(?:deployment|deploy)\s+([\w.-]+)"), "deployment"),
    (re.compile(r"\b(?:psql|pg_dump|pg_restore|mysql|mysqldump|redis-cli)\b[^\n|;&]*?\s(?:-h|--host)[= ]?([\w.-]+)"), "db_host"),
    (re.compile(r"\bsystemctl\s+(?:start|stop|restart|reload|status|is-active|enable|disable)\s+([\w@.-]+)"), "service"),
    (re.compile(r"\b(?:pm2|supervisorctl)\s+(?:start|stop|restart|reload|status|logs|describe|delete)\s+([\w.-]+)"), "service"),
    (re.compile(r"\bdocker(?:-compose)?\s+(?:start|stop|restart|logs|exec|inspect|rm)\s+(?:-\w+\s+)*([\w.-]+)"), "container"),
)  # fmt: skip
_VERSION = re.compile(r"(?<![\w.-])v\d+(?:\.\d+){1,3}(?:-[\w.]+)?(?![\w.-])")
# an absolute path standing as a word of its own (not a URL's path, not the start of a longer word)
_PATH = re.compile(r"(?<![\w.~$}/:\x02-])(/[\w.@+-]+(?:/[\w.@+-]+)+)(?=[\s'\";|&)<>]|$)")
_SCRATCH = ("/tmp/", "/dev/", "/proc/", "/sys/", "/run/")
# directories every system has: a var for them says nothing about this runbook
_GENERIC = frozenset(
    {
        *("bin", "sbin", "lib", "lib64", "log", "logs", "tmp", "cache", "share", "local", "etc", "var", "usr"),
        *("opt", "home", "root", "srv", "www", "html", "run", "proc", "sys", "dev", "data", "default"),
        *("nginx", "apache2", "httpd", "mysql", "postgresql", "redis", "systemd", "system"),
        *("sites-available", "sites-enabled", "conf.d", "init.d", "cron.d", "backups", "backup"),
        *("letsencrypt", "live", "ssl", "certs"),
    }
)
_RESERVED = frozenset({"service", "current_version", "target_version", "now", "operator", "session", "plan"})


@dataclass
class _Found:
    value: str
    hint: str  # what the literal is: the name a var of it starts from
    actions: set[int]  # the steps (by index) that use it
    prefix: bool = False  # a path: seen as a directory other paths go on from


def literal_vars(actions: list[dict[str, Any]], taken: set[str], versions: dict[str, str]) -> dict[str, str]:
    """Replace recurring literals in the ``run`` of ``actions`` (local and ssh steps and checks) by
    var placeholders; ``versions`` maps a version the document states to its placeholder's name.
    The vars made."""
    runs = [
        (n, a) for n, a in enumerate(actions) if a.get("kind") in ("local", "ssh") and isinstance(a.get("run"), str)
    ]
    found: dict[tuple[str, str], _Found] = {}
    for n, action in runs:
        for value, hint, _, end in _literals(action["run"]):
            item = found.setdefault((value, hint), _Found(value, hint, set()))
            item.actions.add(n)
            item.prefix |= hint == "path" and end < len(action["run"]) and action["run"][end] == "/"
    names: dict[tuple[str, str], str] = {}
    used = set(taken) | _RESERVED
    for key, item in sorted(found.items(), key=lambda kv: (-len(kv[1].actions), kv[0])):
        if stated := versions.get(item.value) if item.hint == "version" else None:
            names[key] = stated
        elif item.hint == "path" and not item.prefix:
            continue  # a file: its directory, when that recurs, is the var
        elif len(item.actions) >= 2 and _PLAIN.fullmatch(item.value) and item.value not in {k[0] for k in names}:
            names[key] = _name(item, used)
            used.add(names[key])
    made: dict[str, str] = {}
    # longest first, so that /srv/app/releases is replaced before /srv/app
    for key in sorted(names, key=lambda k: len(k[0]), reverse=True):
        name, (value, hint) = names[key], key
        changed = []
        for n, action in runs:
            if n in found[key].actions:
                run = _substitute(action["run"], value, hint, placeholder(name))
                if run != action["run"] and _lands_safely(run, name, value):
                    changed.append((action, run))
        if name in versions.values() or len(changed) >= 2:  # a var one step uses says no more than a literal
            for action, run in changed:
                action["run"] = run
            if name not in versions.values():
                made[name] = value
    return dict(sorted(made.items()))


def _literals(run: str) -> Iterator[tuple[str, str, int, int]]:
    """Each literal in ``run`` with what it is and where (the importer's own placeholders masked)."""
    text = _MARKER.sub(lambda m: "\x02" * len(m.group(0)), run)
    for pattern, hint in _FLAGGED:
        for match in pattern.finditer(text):
            yield match.group(1), hint, match.start(1), match.end(1)
    for match in _VERSION.finditer(text):
        yield match.group(0), "version", match.start(), match.end()
    for match in _PATH.finditer(text):
        if match.group(1).startswith(_SCRATCH):
            continue
        for prefix in _directories(match.group(1)):
            yield prefix, "path", match.start(1), match.start(1) + len(prefix)


def _directories(path: str) -> Iterator[str]:
    """The path and the directories on it that name this application (``/home/app/patent-app``):
    at least two levels deep, and not a directory every system has."""
    parts = path.split("/")[1:]
    for depth in range(2, len(parts) + 1):
        last = parts[depth - 1]
        if last.lower() not in _GENERIC:
            yield "/" + "/".join(parts[:depth])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _name(item: _Found, used: set[str]) -> str:
    """From what the literal is: the flag's meaning, the service's or directory's own name."""
    parts = item.value.rstrip("/").split("/")
    slug = _slug(parts[-1])
    if item.hint == "path":
        base = f"{slug}_dir" if slug else "dir"
        if base in used and len(parts) >= 3 and _slug(parts[-2]):
            base = f"{_slug(parts[-2])}_{base}"  # /var/www/ops-scaffold beside /etc/ops-scaffold
    elif item.hint in ("service", "container"):
        base = f"{slug}_{item.hint}" if slug else item.hint
    else:
        base = item.hint
    if not re.match(r"^[a-z]", base):
        base = f"v_{base}"
    name, n = base, 2
    while name in used:
        name = f"{base}_{slug}" if n == 2 and slug and not base.endswith(slug) else f"{base}_{n}"
        n += 1
    return name


def _substitute(run: str, value: str, hint: str, marker: str) -> str:
    """``value`` replaced where it was found as what ``hint`` says, nowhere else."""
    spans = sorted({(s, e) for v, h, s, e in _literals(run) if v == value and h == hint})
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start >= pos:
            out += [run[pos:start], marker]
            pos = end
    out.append(run[pos:])
    return "".join(out)


def _lands_safely(run: str, name: str, value: str) -> bool:
    """The command renders with the var where it is, as the engine renders it (an operator's
    ``--var`` included: the value is taken as not written by the author)."""
    template = _MARKER.sub(lambda m: "{{ " + m.group(1) + " }}", run)
    scope = {m.group(1): Value("x", trusted=True) for m in _MARKER.finditer(run)}
    scope[name] = Value(value, trusted=False)
    try:
        render_shell(template, scope)
    except RenderError:
        return False
    return True
