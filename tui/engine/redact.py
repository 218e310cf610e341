"""Masking secrets wherever text leaves the engine: output, journal, errors, the record.

A secret is masked in every spelling it can take on the way out: as written, percent-encoded
(in a URL), shell-quoted (in a described command), JSON-escaped (in a body), and line by
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


def spellings(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), shlex.quote(secret)}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.add(json.dumps(secret)[1:-1])
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
