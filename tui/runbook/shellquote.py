"""Quoting a value for the exact spot of a POSIX shell command it lands in.

The runbook's author writes the command; operators and earlier steps supply values. To keep
a value data, we must know what the shell will do with the text at the placeholder: plain
word, inside '...' or "...", inside $( ) or `...` (which start a new quoting level, and
backquotes strip one level of backslashes first), in a # comment (which a line break ends),
or in a here-document body (where quotes mean nothing, an unquoted delimiter still expands
$ and `, and a line equal to the delimiter ends the document). ``ShellScan`` follows the
author's text through those states; ``place`` quotes a value for the current one, or raises
ShellQuoteError where no quoting can keep it literal.

Two things quoting alone cannot fix, for values the author did not write: a value that
starts an argument with ``-`` is an option to the command (refused unless ``--`` came
first), and text that another interpreter parses again (``ssh host CMD``, ``sh -c``,
``psql -c``, a here-document fed to one) is code there whatever the local quotes say, so
only plain values (letters, digits, ``._,:/@%+=-``) may go there.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_WORD_BREAK = " \t\n;&|()<>"
_COMMAND_BREAK = "\n;&|()"
_BACKQUOTE_ESCAPE = re.compile(r"([\\`$])")
_PLAIN = re.compile(r"[\w.,:/@%+=-]*")
# Commands that parse an argument (or their stdin) again as code: a shell, a remote shell, or
# another language.
REPARSERS = frozenset(
    [
        "sh",
        "bash",
        "dash",
        "zsh",
        "ksh",
        "ash",
        "fish",
        "eval",
        "ssh",
        "su",
        "runuser",
        "watch",
        "psql",
        "mysql",
        "mongo",
        "mongosh",
        "redis-cli",
        "python",
        "python3",
        "perl",
        "ruby",
        "node",
        "php",
        "awk",
        "gawk",
        "sed",
    ]
)


class ShellQuoteError(ValueError):
    """The value cannot be placed here so that the shell reads it literally."""


@dataclass
class _Frame:
    kind: str  # "top", "$(" or "`"
    quote: str = ""  # "", "'" or '"'
    depth: int = 0  # plain parentheses open inside this frame
    word: str = ""  # the word being read, as written (quotes included)
    words: list[str] = field(default_factory=list)  # the simple command's earlier words, unquoted

    def end_word(self, *, command_ends: bool = False) -> None:
        if self.word:
            self.words.append(re.sub(r"[\"'\\]", "", self.word))
            self.word = ""
        if command_ends:
            self.words.clear()


@dataclass
class _Heredoc:
    delimiter: str
    quoted: bool  # <<'EOF': the body is taken verbatim
    strip_tabs: bool  # <<-EOF
    reader: str  # the command reading it ("cat", "ssh", ...)


class ShellScan:
    def __init__(self) -> None:
        self.frames = [_Frame("top")]
        self.pending: list[_Heredoc] = []
        self.body: _Heredoc | None = None
        self.line = ""  # the here-document body line read so far
        self.comment = False
        self.in_delimiter = False  # the text ended in the middle of a here-document delimiter
        self.unsure = False  # escapes inside backquotes: not modelled, so values are refused

    def feed(self, text: str) -> None:
        """Advance over author-written text."""
        i, n = 0, len(text)
        self.in_delimiter = False
        while i < n:
            ch = text[i]
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
                i = self._code(text, i, ch)
            i += 1

    def _code(self, text: str, i: int, ch: str) -> int:
        frame = self.frames[-1]
        nxt = text[i + 1 : i + 2]
        if ch == "\\" and nxt in '\\`$"' and any(f.kind == "`" for f in self.frames):
            # Backquotes strip these escapes before parsing, quotes or not: the text means
            # something else than it reads, so we do not guess where a value would land.
            self.unsure = True
        if frame.kind == "`" and ch == "`":
            # A backquoted command ends at the next unescaped backquote, quotes or not.
            self._pop()
            return i
        if frame.quote == "'":
            frame.word += ch
            if ch == "'":
                frame.quote = ""
            return i
        if frame.quote == '"':
            frame.word += ch
            if ch == "\\":
                frame.word += nxt
                return i + 1
            if ch == '"':
                frame.quote = ""
            elif ch == "$" and nxt == "(":
                self.frames.append(_Frame("$("))
                return i + 1
            elif ch == "`":
                self.frames.append(_Frame("`"))
            return i
        if ch in _WORD_BREAK:
            return self._break(text, i, ch, nxt, frame)
        if ch == "#" and not frame.word:
            self.comment = True
        elif ch == "$" and nxt == "(":
            frame.word += "$"
            self.frames.append(_Frame("$("))
            return i + 1
        elif ch == "`":
            frame.word += "`"
            self.frames.append(_Frame("`"))
        else:
            frame.word += ch + (nxt if ch == "\\" else "")
            if ch in "'\"":
                frame.quote = ch
            return i + 1 if ch == "\\" else i
        return i

    def _break(self, text: str, i: int, ch: str, nxt: str, frame: _Frame) -> int:
        reader = next(iter(frame.words), "") or frame.word
        redirect = ch == "&" and text[i - 1 : i] in ("<", ">")  # 2>&1 does not end the command
        frame.end_word(command_ends=ch in _COMMAND_BREAK and not redirect)
        if ch == "(":
            frame.depth += 1
        elif ch == ")":
            if frame.depth:
                frame.depth -= 1
            elif frame.kind == "$(":
                self._pop()
        elif ch == "<" and nxt == "<" and text[i + 2 : i + 3] != "<":
            return self._heredoc(text, i + 2, reader)
        elif ch == "\n":
            self._newline()
        return i

    def _pop(self) -> None:
        self.frames[-1].end_word()
        self.frames.pop()
        self.frames[-1].word += "$"  # the substitution's result is part of the outer word

    def _heredoc(self, text: str, j: int, reader: str) -> int:
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
        self.pending.append(_Heredoc(delimiter, any(c in word for c in "'\"\\"), strip_tabs, reader))
        return j - 1

    def _newline(self) -> None:
        if self.pending and self.frames[-1].quote == "":
            self.body, self.line = self.pending.pop(0), ""

    def _body_line_end(self) -> None:
        assert self.body is not None
        line = self.line.lstrip("\t") if self.body.strip_tabs else self.line
        if line == self.body.delimiter:
            self.body = self.pending.pop(0) if self.pending else None
        self.line = ""

    def place(self, name: str, text: str, trusted: bool, rest: str) -> str:
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
            return self._in_body(where, text, trusted, rest)
        frame = self.frames[-1]
        if not trusted:
            self._check_untrusted(where, text, frame)
        if frame.quote == "'":
            quoted = "'" + shlex.quote(text) + "'"
        elif frame.quote == '"':
            quoted = re.sub(r'([\\$`"])', r"\\\1", text)
        else:
            quoted = shlex.quote(text)
        frame.word += "v"  # the value is part of the word now, whatever its text
        # Backquotes strip one level of \\, \` and \$ before the inner command is parsed.
        for _ in range(sum(f.kind == "`" for f in self.frames)):
            quoted = _BACKQUOTE_ESCAPE.sub(r"\\\1", quoted)
        return quoted

    def _check_untrusted(self, where: str, text: str, frame: _Frame) -> None:
        starts_argument = not frame.word.strip("'\"")
        if text.startswith("-") and starts_argument and "--" not in frame.words:
            raise ShellQuoteError(
                f"{where} = {text[:40]!r} would be read as an option; put -- before it in the command"
            )
        reparser = next((w for w in frame.words if _reparses(w)), None)
        if reparser is not None and (not _PLAIN.fullmatch(text) or text.startswith("-")):
            raise ShellQuoteError(
                f"{where} goes to {reparser}, which parses it again as code; only plain values"
                " (letters, digits, . _ , : / @ % + = -, not starting with -) can go there"
            )

    def _in_body(self, where: str, text: str, trusted: bool, rest: str) -> str:
        assert self.body is not None
        code = _reparses(self.body.reader)
        if not trusted and (not _PLAIN.fullmatch(text) or (code and text.startswith("-"))):
            # The reader may be cat (data) or ssh / psql (code): only a value that means the
            # same to every reader is safe.
            raise ShellQuoteError(
                f"{where} is in a here-document read by {self.body.reader or 'a command'}; only plain values"
                " (letters, digits, . _ , : / @ % + = -) can go there" + (", not starting with -" if code else "")
            )
        if "\n" in text:
            raise ShellQuoteError(f"{where} is in a here-document and its value has a line break")
        placed = text if self.body.quoted else _BACKQUOTE_ESCAPE.sub(r"\\\1", text)
        line = self.line + placed + rest.split("\n", 1)[0]
        if (line.lstrip("\t") if self.body.strip_tabs else line) == self.body.delimiter:
            raise ShellQuoteError(f"{where} would end the here-document early (its line reads {line!r})")
        self.line += placed
        return placed


def _reparses(word: str) -> bool:
    return word.rsplit("/", 1)[-1] in REPARSERS
