"""Quoting a value for the exact spot of a POSIX shell command it lands in.

The runbook's author writes the command; operators and earlier steps supply values. To keep
a value data, we must know what the shell will do with the text at the placeholder: plain
word, inside '...' or "...", inside $( ) or `...` (which start a new quoting level, and
backquotes strip one level of backslashes first), in a # comment (which a line break ends),
or in a here-document body (where quotes mean nothing, an unquoted delimiter still expands
$ and `, and a line equal to the delimiter ends the document). ``ShellScan`` follows the
author's text through those states; ``place`` quotes a value for the current one, or raises
ShellQuoteError where no quoting can keep it literal.

Some spots no quoting can make safe for values the author did not write (an operator's
``--var``, a captured value), so those are refused before anything runs:

- a value that starts an argument with ``-`` is an option to the command (unless ``--``
  came first);
- a program that parses text again (a shell, ``ssh``, ``eval``, ``xargs``, ``psql``,
  ``python``, ``sudo -s``, ...) reads a value as code whatever the local quotes say, when the
  value is one of its arguments or reaches it through a ``|`` (from anything earlier in the
  command, groups and substitutions included): only plain values (letters, digits,
  ``._,:/@%+=-``, not starting with ``-``) may go there. A ``NAME=value`` assignment is
  data (the program's environment) and exempt. What a command does with a file or variable
  the value was written to is the author's code, not a substitution;
- arithmetic (``$(( ))``, ``(( ))``, ``let``, ``[[ a -eq b ]]``, ``declare -i``, an array
  index) evaluates the text again, ``$( )`` included: only a plain integer;
- inside ``${name:-...}`` the shell expands the text with rules of its own: only plain values;
- a value that names the program to run (itself, or through a ``$( )`` in that place):
  only a plain value, one word;
- a here-document body: only plain values (not starting with ``-`` when a program that parses
  text again reads it).

The rules that need the whole command (what comes after the value) come from a first pass
over the command with each placeholder marked (``survey``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_WORD_BREAK = " \t\n;&|()<>"
_COMMAND_BREAK = "\n;&|()"
_BACKQUOTE_ESCAPE = re.compile(r"([\\`$])")
_PLAIN = re.compile(r"[\w.,:/@%+=-]*")
_INTEGER = re.compile(r"-?[0-9]+")
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*(\[[^\]]*\])?\+?=")
_ARRAY_INDEX = re.compile(r"[A-Za-z_]\w*\[")
MARK = "\x01"  # stands for a placeholder in the survey pass
# Commands that parse an argument (or their stdin) again as code: a shell, a remote shell or
# copy, a tool that splits and re-quotes its input, or another language.
REPARSERS = frozenset(
    [
        "sh",
        "bash",
        "dash",
        "zsh",
        "ksh",
        "mksh",
        "ash",
        "csh",
        "tcsh",
        "fish",
        "busybox",
        "eval",
        "ssh",
        "scp",
        "rsync",
        "su",
        "runuser",
        "watch",
        "xargs",
        "parallel",
        "script",
        "expect",
        "tclsh",
        "tmux",
        "screen",
        "at",
        "batch",
        "psql",
        "mysql",
        "mariadb",
        "mysqlsh",
        "sqlite3",
        "sqlplus",
        "clickhouse-client",
        "cqlsh",
        "pgcli",
        "mongo",
        "mongosh",
        "redis-cli",
        "python",
        "python2",
        "python3",
        "pypy",
        "pypy3",
        "perl",
        "ruby",
        "irb",
        "node",
        "deno",
        "bun",
        "php",
        "lua",
        "Rscript",
        "pwsh",
        "powershell",
        "osascript",
        "awk",
        "gawk",
        "mawk",
        "nawk",
        "sed",
        "ed",
        "ex",
        "vi",
        "vim",
        "nvim",
        "dc",
        "m4",
        "jq",
        "yq",
    ]
)
_VERSIONED = re.compile(r"(python|pypy|perl|ruby|php|node|lua)[0-9.]*")
# Options that make an otherwise argv-passing command hand its arguments to a shell.
_SHELL_OPTIONS = {
    "sudo": {"-s", "-i", "--shell", "--login"},
    "doas": {"-s"},
    "env": {"-S", "--split-string"},
}
_ARITHMETIC_COMMANDS = frozenset({"let", "(("})
_ARITHMETIC_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_DECLARATIONS = frozenset({"declare", "typeset", "local", "readonly", "export"})
_RESERVED = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"})
_PREFIXES = frozenset({"sudo", "doas", "env", "exec", "command", "builtin", "nohup", "nice", "xargs"})

PLAIN_VALUES = "plain values (letters, digits, . _ , : / @ % + = -, not starting with -)"


class ShellQuoteError(ValueError):
    """The value cannot be placed here so that the shell reads it literally."""


@dataclass
class _Frame:
    kind: str  # "top", "$(", "`", "$((" (arithmetic) or "${" (a parameter expansion)
    quote: str = ""  # "", "'" or '"'
    depth: int = 0  # plain parentheses (or braces, in "${") open inside this frame
    word: str = ""  # the word being read, as written (quotes included)
    words: list[str] = field(default_factory=list)  # the simple command's earlier words, unquoted
    # Survey only: placeholders in the current simple command, each with the word it is in
    # (a substitution's placeholders count as in the word it stands in); every placeholder seen
    # in this frame so far; and those whose output a later | takes on.
    marks: list[tuple[int, int]] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    piped: list[int] = field(default_factory=list)

    def end_word(self) -> None:
        if self.word:
            self.words.append(re.sub(r"[\"'\\]", "", self.word))
            self.word = ""


@dataclass
class _Heredoc:
    delimiter: str
    quoted: bool  # <<'EOF': the body is taken verbatim
    strip_tabs: bool  # <<-EOF
    reader: str  # the command reading it ("cat", "ssh", ...)


@dataclass
class Survey:
    """What the whole command says about each placeholder (by its index)."""

    needs: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # index -> [(need, reason)]


def survey(marked: str) -> Survey:
    """Scan a command whose placeholders were each replaced by MARK."""
    scan = ShellScan()
    scan.feed(marked)
    scan.finish()
    return Survey(scan.needs)


def _reparser(words: list[str]) -> str | None:
    """The program among a simple command's words that parses text again, if any."""
    found = next((w for w in words if _reparses(w)), None)
    for program, options in _SHELL_OPTIONS.items():
        if found is None and program in words and options & set(words):
            found = f"{program} {sorted(options & set(words))[0]}"
    return found


class ShellScan:
    def __init__(self, known: Survey | None = None) -> None:
        self.frames = [_Frame("top")]
        self.pending: list[_Heredoc] = []
        self.body: _Heredoc | None = None
        self.line = ""  # the here-document body line read so far
        self.comment = False
        self.in_delimiter = False  # the text ended in the middle of a here-document delimiter
        self.unsure = False  # escapes inside backquotes: not modelled, so values are refused
        self.known = known or Survey()
        self.index = -1  # the placeholder being placed (or, surveying, the last MARK seen)
        self.needs: dict[int, list[tuple[str, str]]] = {}

    def feed(self, text: str) -> None:
        """Advance over author-written text."""
        i, n = 0, len(text)
        self.in_delimiter = False
        while i < n:
            ch = text[i]
            if ch == MARK:
                self.index += 1
                if self.body is None and not self.comment:
                    self._mark()
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

    def finish(self) -> None:
        while len(self.frames) > 1:
            self._pop()
        self.frames[0].end_word()
        self._command_end(self.frames[0])

    def _need(self, index: int, need: str, reason: str) -> None:
        self.needs.setdefault(index, []).append((need, reason))

    def _mark(self) -> None:
        frame = self.frames[-1]
        if any(f.kind == "$((" for f in self.frames):
            self._need(self.index, "integer", "is in an arithmetic expansion $(( ))")
        elif _ARRAY_INDEX.match(frame.word) and frame.quote == "" and frame.kind != "${":
            self._need(self.index, "integer", "is an array index")
        if any(f.kind == "${" for f in self.frames):
            self._need(self.index, "plain", "is inside a ${...} expansion")
        frame.marks.append((self.index, len(frame.words)))
        frame.seen.append(self.index)

    def _command_end(self, frame: _Frame, *, piped: bool = False) -> None:
        """A simple command ends (``piped``: its output goes on to the next one)."""
        words = frame.words
        if words:
            position = _command_word(words)
            if position is not None:
                for index, at in frame.marks:
                    if at == position:
                        self._need(index, "plain", "names the program to run")
            head = words[0]
            arithmetic = (
                head in _ARITHMETIC_COMMANDS
                or (head == "[[" and _ARITHMETIC_TESTS & set(words))
                or (head in _DECLARATIONS and any(w.startswith("-") and "i" in w for w in words[1:]))
            )
            if arithmetic:
                for index, _ in frame.marks:
                    self._need(index, "integer", f"is in a {head} command, which evaluates it as arithmetic")
            reparser = _reparser(words)
            if reparser is not None:
                # Its own arguments (but not NAME=value assignments: those are its environment,
                # data), and whatever an earlier | fed it.
                data = _assignments(words, position)
                at_risk = [index for index, at in frame.marks if at not in data] + frame.piped
                for index in dict.fromkeys(at_risk):
                    self._need(index, "plain", f"goes to {reparser}, which parses it again as code")
        if piped:
            frame.piped.extend(index for index in frame.seen if index not in frame.piped)
        frame.words = []
        frame.marks = []

    def _code(self, text: str, i: int, ch: str) -> int:
        frame = self.frames[-1]
        nxt = text[i + 1 : i + 2]
        if ch == "\\" and nxt != "" and nxt in '\\`$"' and any(f.kind == "`" for f in self.frames):
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
        if frame.kind == "${":
            return self._in_expansion(text, i, ch, nxt, frame)
        if frame.quote == '"':
            frame.word += ch
            if ch == "\\":
                frame.word += nxt
                return i + 1
            if ch == '"':
                frame.quote = ""
            elif ch == "$" and nxt != "" and nxt in "({":
                return self._open_dollar(text, i, frame)
            elif ch == "`":
                self._push("`", frame)
            return i
        if ch in _WORD_BREAK:
            return self._break(text, i, ch, nxt, frame)
        if ch == "#" and not frame.word:
            self.comment = True
        elif ch == "$" and nxt != "" and nxt in "({":
            frame.word += "$"
            return self._open_dollar(text, i, frame)
        elif ch == "`":
            frame.word += "`"
            self._push("`", frame)
        else:
            frame.word += ch + (nxt if ch == "\\" else "")
            if ch in "'\"":
                frame.quote = ch
            return i + 1 if ch == "\\" else i
        return i

    def _open_dollar(self, text: str, i: int, frame: _Frame) -> int:
        """At ``$(``, ``$((`` or ``${``: open the frame; the index of its last opening character."""
        if text[i + 1 : i + 3] == "((":
            self._push("$((", frame)
            return i + 2
        self._push("$(" if text[i + 1] == "(" else "${", frame)
        if text[i + 1] == "{" and frame.quote == '"':
            self.frames[-1].quote = "dq"  # opened inside "...": its quotes are not modelled
        return i + 1

    def _push(self, kind: str, outer: _Frame) -> None:
        self.frames.append(_Frame(kind))

    def _in_expansion(self, text: str, i: int, ch: str, nxt: str, frame: _Frame) -> int:
        """Inside ``${...}``: find its closing brace, following nested substitutions."""
        if frame.quote == "dq":
            if ch in "'\"":
                self.unsure = True  # "${x:-'a'}": quotes inside mean different things to each shell
                return i
            return self._expansion_body(text, i, ch, nxt, frame)
        if frame.quote == '"':
            if ch == "\\":
                return i + 1
            if ch == '"':
                frame.quote = ""
            return i
        if ch == "\\":
            return i + 1
        if ch in "'\"":
            frame.quote = ch
            return i
        if ch == "`":
            self._push("`", frame)
            return i
        return self._expansion_body(text, i, ch, nxt, frame)

    def _expansion_body(self, text: str, i: int, ch: str, nxt: str, frame: _Frame) -> int:
        """A character of ``${...}`` outside any quote it holds: braces nest, ``}`` at depth 0
        closes it, and ``$(`` / ``${`` open a substitution inside."""
        if ch == "}" and not frame.depth:
            self._pop()
        elif ch in "{}":
            frame.depth += 1 if ch == "{" else -1
        elif ch == "$" and nxt != "" and nxt in "({":
            return self._open_dollar(text, i, frame)
        return i

    def _break(self, text: str, i: int, ch: str, nxt: str, frame: _Frame) -> int:
        reader = next(iter(frame.words), "") or frame.word
        redirect = ch == "&" and text[i - 1 : i] in ("<", ">")  # 2>&1 does not end the command
        frame.end_word()
        if frame.kind == "$((":
            # Arithmetic: << is a shift, ( ) group, and )) ends it.
            if ch == "(":
                frame.depth += 1
            elif ch == ")":
                if frame.depth:
                    frame.depth -= 1
                elif nxt == ")":
                    self._pop()
                    return i + 1
            return i
        if ch in _COMMAND_BREAK and not redirect:
            if ch == "(" and nxt == "(" and not frame.words:
                frame.words.append("((")  # (( ... )): an arithmetic command
                frame.depth += 2
                return i + 1
            pipe = ch == "|" and nxt != "|" and text[i - 1 : i] != "|"
            self._command_end(frame, piped=pipe)
        if ch == "(":
            frame.depth += 1
        elif ch == ")":
            if frame.depth:
                frame.depth -= 1
            elif frame.kind == "$(":
                self._pop()
        elif ch == "<" and text[i : i + 3] == "<<<":
            return i + 2  # a here-string: the next word is an ordinary word the command reads
        elif ch == "<" and nxt == "<":
            return self._heredoc(text, i + 2, reader)
        elif ch == "\n":
            self._newline()
        return i

    def _pop(self) -> None:
        inner = self.frames[-1]
        inner.end_word()
        if inner.kind in ("$(", "`"):
            self._command_end(inner)
        self.frames.pop()
        outer = self.frames[-1]
        outer.word += "v"  # the substitution's result is part of the outer word
        # What the substitution printed is that word now: its placeholders go where it goes.
        outer.marks.extend((index, len(outer.words)) for index in inner.seen)
        outer.seen.extend(inner.seen)

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
        self.index += 1
        where = f"{{{{ {name} }}}}"
        if self.in_delimiter:
            raise ShellQuoteError(f"{where} cannot be (part of) a here-document delimiter")
        if self.unsure:
            raise ShellQuoteError(
                f"{where} follows quoting this scanner does not model (backslash escapes inside backquotes,"
                ' quotes inside "${...}"); use $( ) and plain quotes so it can be quoted'
            )
        if self.comment:
            if "\n" in text or "\r" in text:
                raise ShellQuoteError(f"{where} is in a # comment and its value has a line break")
            return text
        if self.body is not None:
            return self._in_body(where, text, trusted, rest)
        frame = self.frames[-1]
        if frame.quote != "'" and (len(frame.word) - len(frame.word.rstrip("\\"))) % 2:
            raise ShellQuoteError(f"{where} follows a backslash, which would escape its first character or quote")
        if not trusted:
            self._check_untrusted(where, text, frame)
        if frame.kind in ("$((", "${"):
            quoted = text  # an integer or a plain value (or the author's own): quotes would be literal here
        elif frame.quote == "'":
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
        plain = bool(_PLAIN.fullmatch(text)) and not text.startswith("-")
        for need, reason in self.known.needs.get(self.index, []):
            if need == "integer" and not _INTEGER.fullmatch(text):
                raise ShellQuoteError(
                    f"{where} {reason}, where the shell evaluates text again (running any $( ) in it);"
                    f" only a plain integer can go there"
                )
            if need == "plain" and not plain:
                raise ShellQuoteError(f"{where} {reason}; only {PLAIN_VALUES} can go there")
        if frame.word.endswith("$") and not frame.word.endswith("\\$") and frame.quote != "'":
            raise ShellQuoteError(f"{where} follows a bare $, which would make it a variable name or $'...' escapes")
        starts_argument = not frame.word.strip("'\"")
        arithmetic = any(need == "integer" for need, _ in self.known.needs.get(self.index, []))
        if text.startswith("-") and starts_argument and "--" not in frame.words and not arithmetic:
            # The value is not repeated: it may be a secret, and a message is no place for it.
            raise ShellQuoteError(
                f"{where} starts with - and would be read as an option; put -- before it in the command"
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
            raise ShellQuoteError(
                f"{where} would end the here-document early (its line would read {self.body.delimiter!r})"
            )
        self.line += placed
        return placed


def _assignments(words: list[str], position: int | None) -> set[int]:
    """Which words are NAME=value assignments (before the program, or to export / declare)."""
    before = range(len(words) if position is None else position)
    found = {at for at in before if _ASSIGNMENT.match(words[at])}
    if position is not None and words[position] in _DECLARATIONS:
        found |= {at for at in range(position + 1, len(words)) if _ASSIGNMENT.match(words[at])}
    return found


def _command_word(words: list[str]) -> int | None:
    """Where the word naming the program a simple command runs is, when it can be told."""
    after_prefix = False
    for position, word in enumerate(words):
        if _ASSIGNMENT.match(word) or word in _RESERVED:
            continue
        if word in _PREFIXES:
            after_prefix = True
            continue
        if after_prefix and word.startswith("-"):
            return None  # sudo -u NAME CMD: which word is the command depends on the option
        return position
    return None


def _reparses(word: str) -> bool:
    name = word.rsplit("/", 1)[-1]
    return name in REPARSERS or bool(_VERSIONED.fullmatch(name))
