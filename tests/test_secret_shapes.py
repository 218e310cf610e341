"""Secrets of every shape through every output path: a whole headless run (pre-checks against
the lab PostgreSQL and HTTP server, local steps that print the secret in every quoting, a
failing one, SQL cells and errors, HTTP excerpts) in this one process, then everything it
left behind: stdout, the journal, the output files, the Markdown and JSON records. Not the
secret, not any 8-character piece of it, not its common encodings."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import shlex
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.lab.web import WebLab
from tui.engine.api import StartOptions
from tui.engine.journal import read_events
from tui.engine.redact import Redactor
from tui.executors.base import ExecContext
from tui.executors.ssh import command_for
from tui.headless.runner import HeadlessOptions, run_headless
from tui.record import render_json, render_markdown
from tui.runbook.loader import load_or_raise
from tui.runbook.model import SshAction, SshSettings
from tui.runbook.placeholders import RenderError, Value

RUNBOOK = """schema = 1
id = "secret-shapes"
title = "Secret shapes"
service = "vault"

[params.api]
prompt = "API base URL"

[secrets.token]
env = "RB_SHAPE_SECRET"

[[checks]]
id = "cell"
title = "The secret as a result cell"
kind = "sql"
dsn_env = "RB_SHAPE_DSN"
query = "SELECT {{ token }}::text AS v, length({{ token }}) AS n"
severity = "warning"

[[checks]]
id = "error"
title = "The secret in a SQL error"
kind = "sql"
dsn_env = "RB_SHAPE_DSN"
query = "SELECT {{ token }}::int"
severity = "warning"

[[checks]]
id = "echo"
title = "The secret echoed by an HTTP server"
kind = "http"
method = "POST"
url = "{{ api }}/echo/x"
json = { v = "{{ token }}", pad = "PADDING" }
expect_status = 200
severity = "warning"

[plans.A]
title = "Print it every way"

[[plans.A.steps]]
id = "bare"
kind = "local"
run = "printf '%s\\\\n' {{ token }}"
on_failure = "continue"

[[plans.A.steps]]
id = "dq"
kind = "local"
run = "printf 'dq=%s\\\\n' \\"{{ token }}\\""
on_failure = "continue"

[[plans.A.steps]]
id = "sq"
kind = "local"
run = "printf 'sq=%s\\\\n' 'x{{ token }}'"
on_failure = "continue"

[[plans.A.steps]]
id = "backquoted"
kind = "local"
run = "printf 'bq=%s\\\\n' \\"`printf '%s' {{ token }}`\\""
on_failure = "continue"

[[plans.A.steps]]
id = "stderr"
kind = "local"
run = "printf '%s\\\\n' {{ token }} >&2; exit 3"
on_failure = "continue"
"""

PAD = "PADDING"


def _shapes() -> list[str]:
    """At least 40 shapes, each around its own random-looking core so that no 8 characters of
    one occur in output by chance."""
    cores = [f"Zq{i:02d}xW7k" for i in range(60)]
    shapes = [
        cores[0] + "Rt5vLm2nB8",  # plain
        cores[1] * 20,  # long (200 characters)
        cores[2] + " with spaces " + cores[3],
        f"  {cores[4]}  ",  # leading and trailing spaces
        f"{cores[5]}\n{cores[6]}",  # two lines
        f"{cores[7]}\n\n{cores[8]}\n",  # blank line, trailing newline
        f"{cores[9]}'{cores[10]}",  # single quote
        f'{cores[11]}"{cores[12]}',  # double quote
        f"{cores[13]}`{cores[14]}",  # backquote
        f"{cores[15]}$HOME{cores[16]}",  # dollar
        f"{cores[17]}\\{cores[18]}",  # backslash
        f"{cores[19]}\\\\n{cores[20]}",  # escaped n
        f"{cores[21]}\t{cores[22]}",  # tab
        f"{cores[23]}%2F{cores[24]}",  # looks percent-encoded
        f"{cores[25]}&x=1#{cores[26]}",  # URL metacharacters
        f"{cores[27]}口令中文{cores[28]}",  # unicode
        f"🔑{cores[29]}🔑",  # emoji
        f"{cores[30]}é\u0301",  # combining mark
        f'{{"k": "{cores[31]}"}}',  # JSON-looking
        f"{cores[32]};{cores[33]}|{cores[34]}",  # shell separators
        f"-{cores[35]}",  # starts like an option
        f"{cores[36]}'\"'\"'{cores[37]}",  # quote-in-quote
        f"{cores[38]}\r\n{cores[39]}",  # CRLF
        f"{cores[40]}{{{{ x }}}}",  # placeholder-looking
        f"{cores[41]}*?[a]",  # glob
        f"{cores[42]}\u00a0{cores[43]}",  # no-break space
        f"{cores[44]}=" * 3,  # base64-looking padding
        f"{cores[45]}<{cores[46]}>",
        f"{cores[47]},{cores[48]}",
        f"'{cores[49]}'",
        f'"{cores[50]}"',
        f"{cores[51]}\\'{cores[52]}",
        f"{cores[53]}     {cores[54]}",  # a run of spaces (collapsed when shown)
        f"{cores[55]}-" + "x7" * 30,  # long tail after a short head
        f"{cores[56]}%s%d",
        f"{cores[57]}\u202e",
        f"{cores[58]}@{cores[59]}.example",
        "P@ss w0rd! 'quoted' \"double\" `tick` $var \\slash " + "Kk9" * 5,
        "multi\nline\nkey-" + "Yy8" * 6,
        "ＦｕｌｌＷｉｄｔｈ" + "Jj4" * 5,
    ]
    return shapes


SHAPES = _shapes()


def _needles(secret: str) -> set[str]:
    """What must not appear: the secret's spellings and every 8-character piece of each."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        shlex.quote(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        repr(secret)[1:-1],
        " ".join(secret.split()),
    }
    pieces = set()
    for form in forms:
        if len(form.strip()) < 8:
            pieces.add(form)
            continue
        pieces |= {form[i : i + 8] for i in range(len(form) - 7)}
    # Pieces made only of what the runbook itself prints (spaces, padding) are not the secret's.
    return {p for p in pieces if p.strip() and not set(p) <= set(" \t\n\r=x7-'\"\\") and PAD not in p}


def test_the_corpus_has_enough_shapes() -> None:
    assert len(SHAPES) >= 40 and len(set(SHAPES)) == len(SHAPES)


def test_no_shape_leaks_anywhere(
    tmp_path: Path, rbconsole_home: Path, web: WebLab, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shapes.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_or_raise(path)
    monkeypatch.setenv("RB_SHAPE_DSN", pg_dsn)
    hits: list[str] = []
    seen: set[str] = set()
    runs = 0
    for index, secret in enumerate(SHAPES):
        monkeypatch.setenv("RB_SHAPE_SECRET", secret)
        record = tmp_path / f"record-{index}.md"
        out = io.StringIO()
        start = StartOptions(plan="A", operator="lab", reason="shapes", values={"api": web.base}, yes=True)
        asyncio.run(run_headless(runbook, str(path), HeadlessOptions(start=start, record=str(record)), out))
        runs += 1
        (session,) = [d for d in (rbconsole_home / "sessions").iterdir() if d.name not in seen]
        seen.add(session.name)
        events = read_events(session / "journal.jsonl")
        texts = {"stdout": out.getvalue(), "record.md": record.read_text(encoding="utf-8")}
        texts["markdown"] = render_markdown(events)
        texts["json"] = render_json(events)
        for file in session.rglob("*"):
            if file.is_file():
                texts[str(file.relative_to(session))] = file.read_text(encoding="utf-8", errors="replace")
        assert "cell" in texts["stdout"] and "stderr" in texts["stdout"]
        needles = _needles(secret)
        for where, text in texts.items():
            found = sorted(n for n in needles if n in text)
            if found:
                at = text.find(found[0])
                hits.append(f"shape {index} {secret!r} in {where}: {found[:3]} at {text[max(0, at - 80) : at + 40]!r}")
    print(f"\nsecret shapes: {len(SHAPES)} shapes, {runs} runs, {len(hits)} hits")
    assert not hits, "\n".join(hits[:40])


SHOWN = [
    "printf '%s' {{ token }}",
    "printf '%s' \"{{ token }}\"",
    "printf '%s' 'x{{ token }}'",
    "printf '%s' \"`printf '%s' {{ token }}`\"",
    "printf '%s' \"$(printf '%s' \"{{ token }}\")\"",
    "printf -- '%s' {{ token }}",
]


def test_commands_shown_in_quotes_and_under_sudo_are_masked() -> None:
    """The ssh executor's command line as shown (sudo wraps it whole in sh -c), every shape in
    every quoting: masked whole."""
    runbook = load_or_raise_text()
    hits, shown = [], 0
    for secret in SHAPES:
        redact = Redactor([secret])
        ctx = ExecContext(runbook, {"token": Value(secret, secret=True)}, {}, SshSettings(), redact=redact)
        for run in SHOWN:
            for sudo in (False, True):
                action = SshAction(kind="ssh", id="s", host="h", run=run, sudo=sudo)
                try:
                    line = redact(command_for(action, ctx))
                except RenderError:
                    continue  # refused: never shown, never run
                shown += 1
                found = sorted(n for n in _needles(secret) if n in line)
                if found:
                    hits.append(f"{secret!r} {run!r} sudo={sudo}: {found[:3]} in {line!r}")
    print(f"\nshown commands: {shown} lines, {len(hits)} hits")
    assert shown > len(SHAPES) * 4
    assert not hits, "\n".join(hits[:20])


def load_or_raise_text():  # type: ignore[no-untyped-def]
    from tui.runbook.loader import load_text

    loaded = load_text(RUNBOOK.replace("{{ api }}", "http://127.0.0.1:1"))
    assert loaded.runbook is not None
    return loaded.runbook
