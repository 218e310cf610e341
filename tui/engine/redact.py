"""Masking secrets wherever text leaves the engine: output, journal, errors, the record.

A secret is masked in every spelling it can take on the way out: as written, percent-encoded
(in a URL), shell-quoted or escaped (in a described command, inside "...", backquotes or
sudo's sh -c, three levels deep), JSON-escaped (in a body, and once more in an answer quoting that body), as Python's ``repr``
quotes it (an exception message, a traceback), and line by line when the secret spans lines
(output arrives line-chunked, so such a secret is never seen whole).

Every secret a redactor masks also masks the log file of this process (:mod:`tui.logs`), for as
long as the process lives: a traceback written after its session has closed is masked all the same.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from tui import logs

MASK = "••••••"
MIN_LENGTH = 3  # a one- or two-character "secret" would mask half the output


# How a command shows a value once quoted for where it sits: inside '...' (and once more for
# each command wrapped whole, as sudo's sh -c is), escaped inside "...", and escaped again
# for each level of backquotes.
_SHELL_LEVELS = (
    lambda text: text.replace("'", "'\"'\"'"),
    lambda text: re.sub(r'([\\$`"])', r"\\\1", text),
    lambda text: re.sub(r"([\\`$])", r"\\\1", text),
)


def _shell_forms(secret: str, depth: int = 3) -> set[str]:
    forms = {secret}
    for _ in range(depth):
        forms |= {level(form) for form in forms for level in _SHELL_LEVELS}
    return forms


def _python_quoted(text: str) -> set[str]:
    """How Python's ``repr`` shows ``text`` between its quotes: as it picks them, and inside '...'
    with the quote escaped (what it does when both kinds occur around it); the same for its bytes."""
    raw = text.encode("utf-8", "surrogatepass")
    both = "'\""
    return {repr(text)[1:-1], repr(text + both)[1:-4], repr(raw)[2:-1], repr(raw + both.encode())[2:-4]}


def spellings(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), shlex.quote(secret)}
    forms |= _shell_forms(secret)
    for ascii_only in (False, True):
        once = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        # Twice: a JSON body quoted inside a JSON answer (a server echoing the request).
        forms |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
    # As an exception message or a traceback quotes it, twice over (a KeyError's text is the
    # repr of a message that may quote the secret's repr): str and the bytes it was encoded to.
    once = _python_quoted(secret)
    forms |= once | {twice for form in once for twice in _python_quoted(form)}
    forms |= {line for line in secret.splitlines() if len(line.strip()) >= MIN_LENGTH + 1}
    return {form for form in forms if len(form) >= MIN_LENGTH}


class Redactor:
    def __init__(self, secrets: Iterable[str] = (), *, logged: bool = True) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._logged = logged
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        fresh = [secret for secret in secrets if secret]
        for secret in fresh:
            self._forms |= spellings(secret)
        if self._logged:
            LOG_MASK.add(fresh)
        if self._forms:
            # Longest first, so a secret's quoted form is masked whole, not around its core.
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def data(self, value: Any) -> Any:
        """``value`` (a JSON-like structure) with every string masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        if isinstance(value, dict):
            return {self(str(key)): self.data(item) for key, item in value.items()}
        return value


class LogMask:
    """Every secret this process's redactors were given, masking the log file; compiled only when
    something is logged (sessions come and go far more often than tracebacks)."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._redactor: Redactor | None = None

    def add(self, secrets: Iterable[str]) -> None:
        fresh = set(secrets) - self._secrets
        if fresh:
            self._secrets |= fresh
            self._redactor = None

    def __call__(self, text: str) -> str:
        if not self._secrets:
            return text
        if self._redactor is None:
            self._redactor = Redactor(self._secrets, logged=False)
        return self._redactor(text)


LOG_MASK = LogMask()
logs.mask(LOG_MASK)
