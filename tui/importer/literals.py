"""Literals that recur in a document's commands as ``[vars]``: the Kubernetes namespace and
deployment, the database host, the services the commands start and stop, the application's
directories, the versions. A profile or ``--var`` can then point the whole runbook elsewhere
(``namespace = "staging"``) instead of every command being edited by hand.

A literal becomes a var only when two or more steps use it, it is a plain value (no quoting, glob
or expansion can change what it means), and the placeholder lands where it reads as the same
value: in a shell command, where ``tui.runbook.placeholders.render_shell`` accepts it as it would
at run time; in a local step's ``cwd`` and a git step's ``repo``, as the directory; in an http
step's URL path, as the same segment; in SQL, only as a whole quoted string in a value position of
one DML statement (``WHERE version = '1.4.2'`` → ``= {{ target_version }}``: a bind parameter, so
the query compares the same text). Anywhere else it stays as the document wrote it. A version the
document states as its current or target version (``v1.4.2`` or ``1.4.2``) is that placeholder
instead of a var of its own; build ids (``20260222_101500``) that repeat are vars.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tui.importer.steps import placeholder
from tui.runbook.placeholders import RenderError, Value, render_shell, render_text, render_url

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
# a version written without its v (three parts, never an address's four) and a dated build id
_BARE_VERSION = re.compile(r"(?<![\w.-])\d+\.\d+\.\d+(?:-[A-Za-z][\w.]*)?(?![\w-]|\.\d)")
_URL_BASE = re.compile(r"(?<![\w$/.-])https?://[A-Za-z0-9.-]+(?::\d{1,5})?(?=[/\s'\"]|$)")
_BUILD = re.compile(r"(?<![\w.-])20\d{6}[_-]\d{4,6}(?![\w-])")
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


# where a literal lands, by step kind: the fields whose text a var may stand in
_FIELDS = {"local": ("run", "cwd"), "ssh": ("run",), "git": ("repo",), "http": ("url",), "sql": ("query",)}


def literal_vars(
    actions: list[dict[str, Any]], taken: set[str], versions: dict[str, str], urls: dict[str, str] | None = None
) -> dict[str, str]:
    """Replace recurring literals in ``actions`` (their commands, working directories, repositories,
    URL paths and SQL values) by var placeholders; ``versions`` maps a version the document states
    to its placeholder's name, ``urls`` a base URL the http steps already read from a var to that
    var (a shell command's ``curl BASE/…`` then reads it too). The vars made."""
    urls = urls or {}
    known = {**versions, **urls}
    places = [
        (n, a, key)
        for n, a in enumerate(actions)
        for key in _FIELDS.get(a.get("kind", ""), ())
        if isinstance(a.get(key), str) and a[key]
    ]
    found: dict[tuple[str, str], _Found] = {}
    for n, action, key in places:
        text = action[key]
        for value, hint, _, end in _found_in(key, text):
            item = found.setdefault((value, hint), _Found(value, hint, set()))
            item.actions.add(n)
            item.prefix |= hint == "path" and (key in ("cwd", "repo") or (end < len(text) and text[end] == "/"))
    names: dict[tuple[str, str], str] = {}
    used = set(taken) | _RESERVED
    for key, item in sorted(found.items(), key=lambda kv: (-len(kv[1].actions), kv[0])):
        if stated := versions.get(item.value) if item.hint == "version" else urls.get(item.value):
            names[key] = stated
        elif item.hint == "url":
            continue  # a base URL only one command names: the http steps' vars say where requests go
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
        for n, action, field_name in places:
            if n in found[key].actions:
                text = _substitute(field_name, action[field_name], value, hint, placeholder(name))
                if text != action[field_name] and _lands(field_name, text, name, value, action[field_name]):
                    changed.append((action, field_name, text))
        if name in known.values() or len({id(a) for a, _, _ in changed}) >= 2:
            for action, field_name, text in changed:  # a var one step uses says no more than a literal
                action[field_name] = text
            if name not in known.values():
                made[name] = value
    return dict(sorted(made.items()))


def _masked(text: str) -> str:
    """``text`` with the importer's own placeholders blanked out (never read as literals)."""
    return _MARKER.sub(lambda m: "\x02" * len(m.group(0)), text)


def _found_in(key: str, text: str) -> Iterator[tuple[str, str, int, int]]:
    """Each literal in one field of a step, with what it is and where."""
    if key == "run":
        yield from _literals(text)
    elif key in ("cwd", "repo"):
        if _PATH.fullmatch(text) and not text.startswith(_SCRATCH):
            for prefix in _directories(text):
                yield prefix, "path", 0, len(prefix)
    elif key == "url":
        masked = _masked(text)
        base = re.match(r"^(?:https?://[^/?#\s]*|\x02+)", masked)
        path_end = re.search(r"[?#]|$", masked).start()
        yield from _versions(masked, base.end() if base else 0, path_end)
    elif key == "query":
        yield from _sql_values(text)


def _versions(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[str, str, int, int]]:
    part = text[: len(text) if end is None else end]
    for pattern, hint in ((_VERSION, "version"), (_BARE_VERSION, "version"), (_BUILD, "build")):
        for match in pattern.finditer(part, start):
            yield match.group(0), hint, match.start(), match.end()


# a quoted string in SQL that a bind parameter can stand for: not a typed literal (DATE '…',
# INTERVAL '…', E'…'), not next to another string or an identifier
_SQL_STRING = re.compile(r"'((?:[^']|'')*)'")
_TYPED = re.compile(
    r"(?:\b(?:date|time|timestamp|timestamptz|interval|inet|cidr|json|jsonb|uuid)\s*|[A-Za-z&]+)$", re.I
)
_DML = re.compile(r"^\s*(?:select|insert|update|delete|with)\b", re.I)
_VALUE_BEFORE = re.compile(r"(?:[=<>(,]|\bin\s*\(|\blike|\bvalues\s*\()\s*$", re.I)


def _sql_values(query: str) -> Iterator[tuple[str, str, int, int]]:
    """Versions and build ids written as whole quoted strings in value positions of one DML
    statement (each span takes the quotes: the bind parameter replaces the whole literal)."""
    query = _masked(query)
    if not _DML.match(query) or ";" in query.rstrip().rstrip(";"):
        return  # DDL and utility statements take no bind parameters; several statements cannot bind
    for match in _SQL_STRING.finditer(query):
        before = query[: match.start()]
        if _TYPED.search(before) or not _VALUE_BEFORE.search(before) or "''" in match.group(1):
            continue
        after = query[match.end() :].lstrip()
        if after.startswith(("'", "::")):
            continue  # 'a' 'b' concatenates; '1.4.2'::semver is a typed literal
        inner = match.group(1)
        for pattern, hint in ((_VERSION, "version"), (_BARE_VERSION, "version"), (_BUILD, "build")):
            if pattern.fullmatch(inner):
                yield inner, hint, match.start(), match.end()
                break


def _literals(run: str) -> Iterator[tuple[str, str, int, int]]:
    """Each literal in a shell command with what it is and where (the importer's own placeholders masked)."""
    text = _masked(run)
    for pattern, hint in _FLAGGED:
        for match in pattern.finditer(text):
            yield match.group(1), hint, match.start(1), match.end(1)
    yield from _versions(text)
    for match in _URL_BASE.finditer(text):
        yield match.group(0), "url", match.start(), match.end()
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
    elif item.hint == "build":
        base = "build_id"
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


def _substitute(key: str, text: str, value: str, hint: str, marker: str) -> str:
    """``value`` replaced in one field where it was found as what ``hint`` says, nowhere else."""
    spans = sorted({(s, e) for v, h, s, e in _found_in(key, text) if v == value and h == hint})
    out: list[str] = []
    pos = 0
    for start, end in spans:
        if start >= pos:
            out += [text[pos:start], marker]
            pos = end
    out.append(text[pos:])
    return "".join(out)


def _lands(key: str, text: str, name: str, value: str, original: str) -> bool:
    """The field renders with the var where it is as the engine renders it: with the var's own
    value, exactly as the document wrote it; with an operator's ``--var`` (a value not written by
    the author), without refusal."""

    def rendered(template: str, own: Value) -> str:
        template = _MARKER.sub(lambda m: "{{ " + m.group(1) + " }}", template)
        scope = {m: Value(f"@{m}@", trusted=True) for m in _MARKER.findall(text + original)}
        scope[name] = own
        if key == "run":
            return render_shell(template, scope)
        if key == "url":
            return render_url(template, scope)
        return render_text(template, scope)

    if key == "query":
        return True  # a bind parameter: the literal's text, compared as the quoted string compared
    try:
        rendered(text, Value(value, trusted=False))
        return rendered(text, Value(value, trusted=True)) == rendered(original, Value(value, trusted=True))
    except RenderError:
        return False
