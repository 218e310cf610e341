"""``{{ name }}`` placeholders: finding them, and substituting them safely for where they land.

The grammar is deliberately one identifier per placeholder (no expressions, no filters), so a
runbook cannot compute anything and a value can only ever be data. Every substitution is made
for its destination: shell-quoted (aware of the quoting around it) in a command, a bind
parameter in SQL, percent-encoded in a URL unless the runbook's author wrote the value, a
validated literal for a git ref, and refused where no safe form exists (a NUL anywhere, a line
break in a header).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import quote

from tui.runbook.shellquote import MARK, ShellQuoteError, ShellScan, survey

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
BUILTINS: frozenset[str] = frozenset(
    {
        "service",
        "current_version",
        "target_version",
        "runbook",
        "now",
        "operator",
        "session",
        "plan",
        "plan_title",
        "profile",
        "severity",
        "mode",
        "started",
    }
)


class RenderError(ValueError):
    """A value cannot be placed safely where the runbook puts it."""


@dataclass(frozen=True)
class Value:
    text: str
    trusted: bool = False  # written by the runbook's author, not typed by an operator or read from output
    secret: bool = False
    # Why the value cannot be used at all (a secret the chosen plan does not need was never read).
    missing: str = ""
    # Why the value cannot land in a command, ref, SQL or URL (an empty optional param).
    empty: str = ""
    # A dry run's stand-in for a value a step would capture: it never runs, so a command shows
    # it quoted where it goes rather than refusing it (elsewhere it is treated as captured).
    stand_in: bool = False


Scope = Mapping[str, Value]


def names_in(text: str) -> Iterator[tuple[str, int]]:
    """Each placeholder name in ``text`` with its offset."""
    for match in PLACEHOLDER.finditer(text):
        yield match.group(1), match.start()


def _lookup(scope: Scope, name: str) -> Value:
    try:
        value = scope[name]
    except KeyError:
        raise RenderError(f"no value for {{{{ {name} }}}}") from None
    if value.missing:
        raise RenderError(value.missing)
    if "\x00" in value.text:
        raise RenderError(f"the value of {{{{ {name} }}}} contains a NUL byte")
    return value


def landing(scope: Scope, name: str) -> Value:
    """The value of ``name`` where it becomes part of what runs (a command, ref, SQL or URL)."""
    value = _lookup(scope, name)
    if value.empty:
        raise RenderError(value.empty)
    return value


def render_text(template: str, scope: Scope) -> str:
    """Plain text (messages, titles, vars built from other values): no quoting."""
    return PLACEHOLDER.sub(lambda m: _lookup(scope, m.group(1)).text, template)


def is_trusted(template: str, scope: Scope) -> bool:
    return all(_lookup(scope, name).trusted for name, _ in names_in(template))


def is_secret(template: str, scope: Scope) -> bool:
    return any(_lookup(scope, name).secret for name, _ in names_in(template))


def render_shell(template: str, scope: Scope) -> str:
    """A shell command with every value quoted for the spot it sits in (see ``shellquote``):
    a single-quoted word outside quotes, closed-and-reopened inside single quotes, escaped
    inside double quotes, one more level of escaping per enclosing backquote, escaped in a
    here-document. Where no quoting keeps a value literal (an operator's value that would be
    an option, or code for ssh / sh -c / psql), RenderError."""
    if MARK in template:
        raise RenderError("the command contains the control character \\x01")
    scan = ShellScan(survey(PLACEHOLDER.sub(MARK, template)))
    matches = list(PLACEHOLDER.finditer(template))
    out: list[str] = []
    pos = 0
    for index, match in enumerate(matches):
        chunk = template[pos : match.start()]
        scan.feed(chunk)
        out.append(chunk)
        following = matches[index + 1].start() if index + 1 < len(matches) else len(template)
        try:
            value = landing(scope, match.group(1))
            trusted = value.trusted or value.stand_in
            out.append(scan.place(match.group(1), value.text, trusted, template[match.end() : following]))
        except ShellQuoteError as exc:
            raise RenderError(str(exc)) from None
        pos = match.end()
    out.append(template[pos:])
    return "".join(out)


def render_sql(template: str, scope: Scope) -> tuple[str, list[str]]:
    """A query for psycopg with each placeholder turned into a bind parameter (``%s``)."""
    params: list[str] = []
    out: list[str] = []
    pos = 0
    for match in PLACEHOLDER.finditer(template):
        out.append(template[pos : match.start()].replace("%", "%%"))
        params.append(landing(scope, match.group(1)).text)
        out.append("%s")
        pos = match.end()
    out.append(template[pos:].replace("%", "%%"))
    return "".join(out), params


_BASE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?")


def render_url(template: str, scope: Scope) -> str:
    """A URL: the author's own values go in as written (``{{ api }}/health``); any value an
    operator typed or a step captured is percent-encoded, so it stays one path segment or
    query value. The one exception is a whole base URL at the very start (``--var
    api=http://lab:8080`` for ``{{ api }}/health``): it names where the request goes, which is
    what the operator meant to choose, and is accepted only in a plain scheme://host[:port]/path
    form (no credentials, query or fragment to smuggle anything in)."""

    def sub(match: re.Match[str]) -> str:
        value = landing(scope, match.group(1))
        if value.trusted or (match.start() == 0 and _BASE_URL.fullmatch(value.text)):
            if any(ch in value.text for ch in "\r\n\t "):
                raise RenderError(f"{{{{ {match.group(1)} }}}} has whitespace and cannot go in a URL")
            return value.text
        if value.text and not value.text.strip("."):
            # "." and ".." are dot-segments an HTTP client resolves away (/items/../delete
            # becomes /delete); encoded, they stay one literal segment.
            return "%2E" * len(value.text)
        return quote(value.text, safe="")

    return PLACEHOLDER.sub(sub, template)


def render_header(template: str, scope: Scope, name: str = "") -> str:
    text = render_text(template, scope)
    header = f"header {name}" if name else "a header value"
    if any(ch in text for ch in "\r\n"):
        raise RenderError(f"{header}: a header value cannot contain a line break")
    if not text.isascii():
        # HTTP sends header values as ASCII; anything else has no one agreed encoding.
        raise RenderError(
            f"{header}: the value has non-ASCII characters; HTTP header values are ASCII (percent-encode it)"
        )
    if any((ord(ch) < 32 and ch != "\t") or ch == "\x7f" for ch in text) or text != text.strip(" \t"):
        # HTTP drops a value's outer blanks and forbids control characters: it would not arrive as it is.
        raise RenderError(
            f"{header}: the value has control characters or blanks at its ends; it cannot arrive as it is"
        )
    return text


_REF_BAD = re.compile(r"(^-)|(\.\.)|([\x00-\x20\x7f~^:?*\[\\])|(@\{)|(^/)|(/$)|(\.lock$)|(//)|(^\.)|(/\.)|(\.$)|(^@$)")


def render_ref(template: str, scope: Scope) -> str:
    """A git ref name, checked against git's ref-format rules (no options, no ranges)."""
    for name, _ in names_in(template):
        landing(scope, name)
    text = render_text(template, scope)
    if not text or _REF_BAD.search(text) or text.startswith("ext::"):
        raise RenderError(f"{text!r} is not a valid git ref name")
    return text


def render_data(data: object, scope: Scope) -> object:
    """A JSON body: placeholders filled inside strings, so a value is always one JSON string."""
    if isinstance(data, str):
        return render_text(data, scope)
    if isinstance(data, list):
        return [render_data(item, scope) for item in data]
    if isinstance(data, dict):
        return {key: render_data(item, scope) for key, item in data.items()}
    return data
