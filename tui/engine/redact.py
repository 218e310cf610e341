"""Masking secrets wherever text leaves the engine: output, journal, errors, the record.

A secret is masked in every spelling it can take on the way out: as written, percent-encoded
(in a URL), shell-quoted or escaped (in a described command, inside "...", backquotes or
sudo's sh -c, three levels deep), JSON-escaped (in a body, and once more in an answer quoting that body), and line by
line when the secret spans lines (output arrives line-chunked, so such a secret is never
seen whole).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

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


def spellings(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), shlex.quote(secret)}
    forms |= _shell_forms(secret)
    for ascii_only in (False, True):
        once = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
        # Twice: a JSON body quoted inside a JSON answer (a server echoing the request).
        forms |= {once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]}
    forms |= {line for line in secret.splitlines() if len(line.strip()) >= MIN_LENGTH + 1}
    return {form for form in forms if len(form) >= MIN_LENGTH}


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret:
                self._forms |= spellings(secret)
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
