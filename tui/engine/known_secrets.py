"""The secret values knowable from a runbook before a session exists (the edges mask them in the log).

A session's redactor knows the secrets it resolved; an error raised before there is one (a
runbook that cannot start, a bad ``--var``, a crash in the opening) still quotes what the
failing code held. These are the values that code could have held: what every declared secret
reads (under each profile: a profile may move a secret to another env or file), the value of
each environment variable that says where the runbook acts (its DSNs' and webhooks', and the
password or token inside such a URL or conninfo as a client would decode it), and the ``--var``
values given for secret params.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from tui.engine.fence import environment_bound
from tui.engine.values import ValuesError, read_secret
from tui.runbook.model import Runbook
from tui.runbook.profiles import with_profile


def known_secrets(runbook: Runbook, given: Mapping[str, str] | None = None) -> list[str]:
    """Every secret value readable now for ``runbook`` (unreadable ones are skipped, never raised)."""
    found: list[str] = []
    for profile in (None, *runbook.profiles):
        try:
            profiled = with_profile(runbook, profile)
        except Exception:  # a profile the loader let through but cannot be applied: the others still count
            continue
        for name in sorted(environment_bound(profiled)):
            found += _decoded(os.environ.get(name) or "")
        for name in profiled.secrets:
            try:
                found.append(read_secret(name, profiled))
            except ValuesError:
                continue
    params = runbook.params
    found += [value for name, value in (given or {}).items() if name in params and params[name].secret]
    return list(dict.fromkeys(value for value in found if value))


_CONNINFO_PASSWORD = re.compile(r"(?i)\bpassword\s*=\s*('(?:\\.|[^'\\])*'|\S+)")
TOKEN_LENGTH = 8  # a query value this long may be a token (a timestamp or a flag rarely is)


def _decoded(value: str) -> Iterator[str]:
    """``value``, and what a client decodes from it: a URL's password and long query values, a
    conninfo's password (libpq unquotes it)."""
    if not value:
        return
    yield value
    try:
        url = urlsplit(value)
        if url.password:
            yield unquote(url.password)
        yield from (v for _, v in parse_qsl(url.query) if len(v) >= TOKEN_LENGTH)
    except ValueError:
        pass  # not a URL
    for match in _CONNINFO_PASSWORD.finditer(value):
        quoted = match.group(1)
        yield re.sub(r"\\(.)", r"\1", quoted[1:-1]) if quoted.startswith("'") else quoted
