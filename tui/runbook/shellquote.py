"""Quoting a value for the exact spot of a POSIX shell command it lands in.

The runbook's author writes the command; operators and earlier steps supply values. To keep
a value data, we must know what the shell will do with the text at the placeholder: plain
word, inside '...' or "...", inside $( ) or `...` (which start a new quoting level, and
backquotes strip one level of backslashes first), in a # comment (which a line break ends),
or in a here-document body (where quotes mean nothing, an unquoted delimiter still expands
$ and `, and a line equal to the delimiter ends the document). ``ShellScan`` follows the
author's text through those states; ``place`` quotes a value for the current one, or raises
ShellQuoteError where no quoting can keep it literal.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_WORD_BREAK = " \t\n;&|()<>"
_BACKQUOTE_ESCAPE = re.compile(r"([\\`$])")


class ShellQuoteError(ValueError):
    """The value cannot be placed here so that the shell reads it literally."""


@dataclass
class _Frame:
    kind: str  # "top", "$(" or "`"
    quote: str = ""  # "", "'" or '"'
    depth: int = 0  # plain parentheses open inside this frame


@dataclass
class _Heredoc:
    delimiter: str
    quoted: bool  # <<'EOF': the body is taken verbatim
    strip_tabs: bool  # <<-EOF


class ShellScan:
    def __init__(self) -> None:
        self.frames = [_Frame("top")]
        self.pending: list[_Heredoc] = []
        self.body: _Heredoc | None = None
        self.line = ""  # the here-document body line read so far
        self.comment = False
        self.word_start = True
        self.in_delimiter = False  # the text ended in the middle of a here-document delimiter
        self.unsure = False  # escapes inside backquotes: not modelled, so values are refused

    def feed(self, text: str) -> None:
        """Advance over author-written text."""
        i, n = 0, len(text)
        self.in_delimiter = False
        while i < n:
            ch = text[i]
            nxt = text[i + 1] if i + 1 < n else ""
            if self.body is not None:
                if ch == "\n":
                    self._body_line_end()
                else:
                    self.line += ch
            elif self.comment:
                if ch == "\n":
                    self.comment = False
                    self._newline()
            else:
                i = self._code(text, i, ch, nxt)
            i += 1

    def _code(self, text: str, i: int, ch: str, nxt: str) -> int:
        frame = self.frames[-1]
        if ch == "\\" and nxt in '\\`$"' and any(f.kind == "`" for f in self.frames):
            # Backquotes strip these escapes before parsing, quotes or not: the text means
            # something else than it reads, so we do not guess where a value would land.
            self.unsure = True
        if frame.kind == "`" and ch == "`":
            # A backquoted command ends at the next unescaped backquote, quotes or not.
            self.frames.pop()
        elif frame.quote == "'":
            if ch == "'":
                frame.quote = ""
        elif frame.quote == '"':
            if ch == "\\":
                return i + 1
            if ch == '"':
                frame.quote = ""
            elif ch == "$" and nxt == "(":
                self.frames.append(_Frame("$("))
                return i + 1
            elif ch == "`":
                self.frames.append(_Frame("`"))
        elif ch == "\\":
            self.word_start = False
            return i + 1
        elif ch in "'\"":
            frame.quote = ch
        elif ch == "#" and self.word_start:
            self.comment = True
        elif ch == "$" and nxt == "(":
            self.frames.append(_Frame("$("))
            self.word_start = True
            return i + 1
        elif ch == "(":
            frame.depth += 1
        elif ch == ")":
            if frame.depth:
                frame.depth -= 1
            elif frame.kind == "$(":
                self.frames.pop()
        elif ch == "`":
            self.frames.append(_Frame("`"))
        elif ch == "<" and nxt == "<" and text[i + 2 : i + 3] != "<":
            return self._heredoc(text, i + 2)
        elif ch == "\n":
            self._newline()
        self.word_start = ch in _WORD_BREAK
        return i

    def _heredoc(self, text: str, j: int) -> int:
        strip_tabs = text[j : j + 1] == "-"
        j += strip_tabs
        while j < len(text) and text[j] in " \t":
            j += 1
        start, quote = j, ""
        while j < len(text) and (quote or text[j] not in _WORD_BREAK):
            if quote and text[j] == quote:
                quote = ""
            elif not quote and text[j] in "'\"":
                quote = text[j]
            elif not quote and text[j] == "\\":
                j += 1
            j += 1
        word = text[start:j]
        if j >= len(text):
            self.in_delimiter = True  # a placeholder (or the end) follows: the delimiter is not known yet
        delimiter = re.sub(r"\\(.)", r"\1", word.replace("'", "").replace('"', ""))
        self.pending.append(_Heredoc(delimiter, any(c in word for c in "'\"\\"), strip_tabs))
        self.word_start = True
        return j - 1

    def _newline(self) -> None:
        self.word_start = True
        if self.pending and self.frames[-1].quote == "":
            self.body, self.line = self.pending.pop(0), ""

    def _body_line_end(self) -> None:
        assert self.body is not None
        line = self.line.lstrip("\t") if self.body.strip_tabs else self.line
        if line == self.body.delimiter:
            self.body = self.pending.pop(0) if self.pending else None
        self.line = ""

    def place(self, name: str, text: str, rest: str) -> str:
        """``text`` quoted for where the scan stands; ``rest`` is the author's text up to the
        next placeholder (to see the whole here-document line)."""
        where = f"{{{{ {name} }}}}"
        if self.in_delimiter:
            raise ShellQuoteError(f"{where} cannot be (part of) a here-document delimiter")
        if self.unsure:
            raise ShellQuoteError(f"{where} follows backslash escapes inside backquotes; use $( ) so it can be quoted")
        if self.comment:
            if "\n" in text or "\r" in text:
                raise ShellQuoteError(f"{where} is in a # comment and its value has a line break")
            return text
        if self.body is not None:
            return self._in_body(where, text, rest)
        frame = self.frames[-1]
        if frame.quote == "'":
            quoted = "'" + shlex.quote(text) + "'"
        elif frame.quote == '"':
            quoted = re.sub(r'([\\$`"])', r"\\\1", text)
        else:
            quoted = shlex.quote(text)
        self.word_start = False
        # Backquotes strip one level of \\, \` and \$ before the inner command is parsed.
        for _ in range(sum(f.kind == "`" for f in self.frames)):
            quoted = _BACKQUOTE_ESCAPE.sub(r"\\\1", quoted)
        return quoted

    def _in_body(self, where: str, text: str, rest: str) -> str:
        assert self.body is not None
        if "\n" in text:
            raise ShellQuoteError(f"{where} is in a here-document and its value has a line break")
        placed = text if self.body.quoted else _BACKQUOTE_ESCAPE.sub(r"\\\1", text)
        line = self.line + placed + rest.split("\n", 1)[0]
        if (line.lstrip("\t") if self.body.strip_tabs else line) == self.body.delimiter:
            raise ShellQuoteError(f"{where} would end the here-document early (its line reads {line!r})")
        self.line += placed
        return placed
