"""Placeholders in PromQL: each value stays the datum it is, never query syntax.

Inside a quoted label value (``job="{{ job }}"``) a value is escaped for that string, and for
a regex matcher (``=~`` / ``!~``) its regex metacharacters too, so ``.*`` matches a literal
``.*``. Outside a string an operator's or a captured value may only be a number, a duration or
a metric / label name; anything else (``1) or vector(1``) is refused. The author's own values
(vars written in the runbook) go in as written. The rendered query is then sent as URL query
data, which the HTTP client percent-encodes.
"""

from __future__ import annotations

import re

from tui.runbook.placeholders import PLACEHOLDER, RenderError, Scope

_BARE = re.compile(
    r"^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|(?:\d+(?:ms|s|m|h|d|w|y))+|[A-Za-z_:][A-Za-z0-9_:]*)$"
)
_RE2_META = set("\\.+*?()|[]{}^$")
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _open_string(text: str) -> tuple[str | None, bool]:
    """The quote character open at the end of ``text`` (None outside a string) and whether
    that string is the operand of a regex matcher."""
    quote: str | None = None
    regex = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quote is None:
            if ch == "#":  # a comment runs to the end of the line
                end = text.find("\n", i)
                i = len(text) if end < 0 else end
                continue
            if ch in "\"'`":
                quote = ch
                regex = bool(re.search(r"[=!]~\s*$", text[:i]))
        elif ch == "\\" and quote != "`":
            i += 1
        elif ch == quote:
            quote = None
        i += 1
    return quote, regex


def _in_string(value: str, quote: str, regex: bool, name: str) -> str:
    if regex:
        value = "".join("\\" + ch if ch in _RE2_META else ch for ch in value)
    if quote == "`":
        if "`" in value:
            raise RenderError(f"{{{{ {name} }}}} contains a backtick and cannot go in a `raw` PromQL string")
        return value
    out = []
    for ch in value:
        if ch == quote:
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def render_promql(template: str, scope: Scope) -> str:
    out: list[str] = []
    pos = 0
    for match in PLACEHOLDER.finditer(template):
        out.append(template[pos : match.start()])
        name = match.group(1)
        try:
            value = scope[name]
        except KeyError:
            raise RenderError(f"no value for {{{{ {name} }}}}") from None
        if "\x00" in value.text:
            raise RenderError(f"the value of {{{{ {name} }}}} contains a NUL byte")
        quote, regex = _open_string("".join(out))
        if quote is not None:
            out.append(_in_string(value.text, quote, regex, name))
        elif value.trusted or _BARE.match(value.text):
            out.append(value.text)
        else:
            raise RenderError(
                f"{{{{ {name} }}}} = {value.text[:40]!r} would be PromQL syntax here; "
                "put it inside a quoted label value, or pass a number, a duration or a name"
            )
        pos = match.end()
    out.append(template[pos:])
    return "".join(out)
