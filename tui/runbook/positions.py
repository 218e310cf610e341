"""Where each key and value of a TOML document starts, for error messages.

``tomllib`` parses but forgets positions, and no maintained TOML library exposes them, so this
scanner walks text that ``tomllib`` has already accepted and records the line and column of
every key path. It trusts the syntax (tomllib checked it) and only follows structure.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

Path = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass
class Positions:
    keys: dict[Path, int] = field(default_factory=dict)
    values: dict[Path, int] = field(default_factory=dict)
    line_starts: list[int] = field(default_factory=lambda: [0])

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def locate(self, path: Path) -> tuple[int, int]:
        """Line and column of ``path`` or of its nearest recorded ancestor."""
        for end in range(len(path), 0, -1):
            prefix = tuple(path[:end])
            if prefix in self.keys:
                return self.line_col(self.keys[prefix])
            if prefix in self.values:
                return self.line_col(self.values[prefix])
        return 1, 1

    def locate_in_value(self, text: str, path: Path, index: int) -> tuple[int, int]:
        """Line and column of character ``index`` of the string value at ``path``."""
        start = self.values.get(tuple(path))
        if start is None or not text.startswith(('"', "'"), start):
            return self.locate(path)
        return self.line_col(string_offset(text, start, index))


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.pos = Positions()
        self.pos.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.aot_count: dict[Path, int] = {}

    # -- low level --------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def skip_ws(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.i += 1
            elif ch == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                return

    def string(self) -> str:
        s = self.s
        for quote in ('"""', "'''"):
            if s.startswith(quote, self.i):
                end = s.find(quote, self.i + 3)
                while quote == '"""' and end > 0 and _escaped(s, end):
                    end = s.find(quote, end + 1)
                end = len(s) if end < 0 else end
                while s.startswith(quote[0], end + 3):  # up to two quotes may close the content
                    end += 1
                text = s[self.i + 3 : end]
                self.i = end + 3
                return text
        quote = s[self.i]
        j = self.i + 1
        out: list[str] = []
        while j < len(s) and s[j] != quote:
            if quote == '"' and s[j] == "\\":
                out.append(s[j : j + 2])
                j += 2
                continue
            out.append(s[j])
            j += 1
        self.i = j + 1
        return _unescape("".join(out)) if quote == '"' else "".join(out)

    def key(self) -> list[tuple[str, int]]:
        parts: list[tuple[str, int]] = []
        while True:
            self.skip_ws()
            start = self.i
            if self.peek() in ('"', "'"):
                parts.append((self.string(), start))
            else:
                j = self.i
                while j < len(self.s) and self.s[j] in _BARE:
                    j += 1
                parts.append((self.s[self.i : j], start))
                self.i = j
            self.skip_ws()
            if self.peek() == ".":
                self.i += 1
                continue
            return parts

    # -- structure --------------------------------------------------------------------------
    def resolve(self, names: list[str]) -> Path:
        """A header's path with the current index inserted after each array of tables."""
        path: Path = ()
        for name in names:
            path = (*path, name)
            if path in self.aot_count:
                path = (*path, self.aot_count[path] - 1)
        return path

    def document(self) -> Positions:
        table: Path = ()
        while True:
            self.skip_ws(newlines=True)
            if self.i >= len(self.s):
                return self.pos
            start = self.i
            if self.peek(2) == "[[":
                self.i += 2
                names = [n for n, _ in self.key()]
                self.i += 2
                parent = self.resolve(names[:-1])
                base = (*parent, names[-1])
                index = self.aot_count.get(base, 0)
                self.aot_count[base] = index + 1
                self.pos.keys.setdefault(base, start)
                table = (*base, index)
                self.pos.keys[table] = start
            elif self.peek() == "[":
                self.i += 1
                table = self.resolve([n for n, _ in self.key()])
                self.i += 1
                self.pos.keys.setdefault(table, start)
            else:
                self.keyval(table)

    def keyval(self, table: Path) -> None:
        parts = self.key()
        path = table
        for name, offset in parts:
            path = (*path, name)
            self.pos.keys.setdefault(path, offset)
        self.skip_ws()
        self.i += 1  # '='
        self.skip_ws()
        self.value(path)

    def value(self, path: Path) -> None:
        self.pos.values[path] = self.i
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch in "{[":
            # An inline table (key = value, on one line) or an array (values, over lines).
            close, index = "}" if ch == "{" else "]", 0
            self.i += 1
            while True:
                self.skip_ws(newlines=close == "]")
                if self.peek() == close:
                    self.i += 1
                    return
                if self.peek() == ",":
                    self.i += 1
                elif close == "}":
                    self.keyval(path)
                else:
                    self.pos.keys.setdefault((*path, index), self.i)
                    self.value((*path, index))
                    index += 1
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.i += 1


def _escaped(s: str, index: int) -> bool:
    backslashes = 0
    while index - 1 - backslashes >= 0 and s[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    simple = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code in simple:
                out.append(simple[code])
                i += 2
                continue
            width = {"u": 4, "U": 8, "x": 2}.get(code)
            if width:
                try:
                    out.append(chr(int(text[i + 2 : i + 2 + width], 16)))
                except ValueError:
                    out.append("?")
                i += 2 + width
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def string_offset(text: str, start: int, index: int) -> int:
    """The source offset of character ``index`` of the string literal starting at ``start``.

    Escapes and line-ending backslashes make a parsed string shorter than its source, so an
    index into the value is walked back through the literal rather than added to its start.
    """
    quote = text[start : start + 3] if text.startswith(('"""', "'''"), start) else text[start : start + 1]
    i = start + len(quote)
    if len(quote) == 3 and text.startswith("\n", i):
        i += 1
    basic = quote[0] == '"'
    end = len(text)
    seen = 0
    while i < end:
        if text.startswith(quote, i) or (len(quote) == 1 and text[i] == "\n"):
            break
        if basic and text[i] == "\\":
            rest = text[i + 1 : i + 2]
            if len(quote) == 3 and rest in (" ", "\t", "\n", "\r"):
                j = i + 1
                while j < end and text[j] in " \t\r\n":
                    j += 1
                if "\n" in text[i + 1 : j]:
                    i = j
                    continue
            if seen == index:
                return i
            i += 2 + {"u": 4, "U": 8, "x": 2}.get(rest, 0)
            seen += 1
            continue
        if seen == index:
            return i
        i += 1
        seen += 1
    return min(i, max(end - 1, 0))


def scan(text: str) -> Positions:
    """Positions of every key in ``text`` (which must be valid TOML)."""
    return _Scanner(text).document()
