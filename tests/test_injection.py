"""Injection corpus: hostile values, as an operator's ``--var`` and as a captured value, into a
real shell, real git, a real PostgreSQL and a real HTTP server.

Each value must arrive as one literal value and execute nothing. A value that has no safe
form (a NUL byte, a ref that would be an option or a range) may be refused with a
RenderError; it must never run. The canary for "executed" is a file named PWNED (or
/tmp/pwn for the ``ext::`` payload): every payload that runs a command creates it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest

from tests.lab.gitrepo import GitLab
from tests.lab.postgres import PgLab
from tests.lab.web import WebLab
from tui.engine.values import resolve
from tui.executors.base import ExecContext
from tui.executors.capture import capture_values
from tui.executors.git import GitExecutor
from tui.executors.http import HttpExecutor
from tui.executors.sql import SqlExecutor
from tui.runbook.model import GitAction, HttpAction, Runbook, SqlAction, SshSettings
from tui.runbook.placeholders import RenderError, Value, render_ref, render_shell, render_sql

CANARY = "PWNED"
BOTH = ("sh", "bash")
ABS_CANARY = Path("/tmp/pwn")

# Cores: each tries one way out of its slot. Variants below put each behind an option dash,
# after a plausible version, and doubled, so the corpus is systematic rather than hand-picked.
SHELL = [
    f"; touch {CANARY}", f"| touch {CANARY}", f"& touch {CANARY}", f"&& touch {CANARY}", f"|| touch {CANARY}",
    f"$(touch {CANARY})", f"`touch {CANARY}`", f"\ntouch {CANARY}", f"\rtouch {CANARY}", f"\r\ntouch {CANARY}",
    f"'; touch {CANARY}; '", f'"; touch {CANARY}; "', f"'$(touch {CANARY})'", f'"$(touch {CANARY})"',
    f"$(touch${{IFS}}{CANARY})", f"${{IFS}}touch${{IFS}}{CANARY}", f"> {CANARY}", f">> {CANARY}",
    f"< /etc/hostname > {CANARY}", f"\\'; touch {CANARY} #", f'\\"; touch {CANARY} #', f"$((1+1))$(touch {CANARY})",
    f"<(touch {CANARY})", f">(touch {CANARY})", f"{{touch,{CANARY}}}", f"$'\\x74ouch' {CANARY}", f"\\\ntouch {CANARY}",
    f"a\\'b'; touch {CANARY}; 'c", f"\"'\"'$(touch {CANARY})'\"'\"", f"${{x:-$(touch {CANARY})}}",
    "*", "?", "[a-z]*", "~", "~root", "$HOME", "${PATH}", "$0", "$$", "$@", "!!", "#", "\\", "\\\\", "'", '"',
    "''", '""', "'\"'\"'", "a\\", "\t", " ", "  spaced  ", "\v\f", "%s%n%x", "%%", "%",
    f"a[$(touch {CANARY})]", f"n[$(touch {CANARY})]+1", f"x;touch {CANARY}", "a' 'b", "42", "-5", "0x10", "1+1",
    f"'); __import__('os').system('touch {CANARY}')#", f"\"; import os; os.system('touch {CANARY}') #",
    f"{{a,b}}$(touch {CANARY})", f"a}}$(touch {CANARY})", f"a}}; touch {CANARY}",
]  # fmt: skip
OPTIONS = [
    f"--upload-pack=touch {CANARY}", f"-c core.sshCommand=touch {CANARY}", f"--output={CANARY}", "-", "--", "-rf /",
    f"--exec=touch {CANARY}", "-n", "-e", "--help", "--end-of-options", f"-oProxyCommand=touch {CANARY}",
    f"ext::sh -c touch%20{ABS_CANARY}", f"ext::sh -c touch% {CANARY}", "fd::17", "file:///etc/passwd",
    "refs/heads/../../config", "HEAD@{1}", "v1.0.0..v2.0.0", "v1.0.0...HEAD", "HEAD~1", "HEAD^", "@", ":/pricing",
    "v1.0.0^{tree}", "main.lock", ".hidden", "trailing/", "/leading",
]  # fmt: skip
ANSI = [
    "\x1b[31mred\x1b[0m",
    "\x1b]0;title\x07",
    "\x1b[2J\x1b[H",
    "\x1b]52;c;dG91Y2ggUFdORUQ=\x07",
    "\x9b31m",
    "\x07\x08\x7f",
]
SQL = [
    "'; DROP TABLE victims; --", "1; DROP TABLE victims", "1' OR '1'='1", "\\'; DROP TABLE victims; --",
    "$$; DROP TABLE victims; $$", "$1", "%s", "%(x)s", "?", ":name", "E'\\x41'", "'||pg_sleep(0)||'",
    "/* */ DROP TABLE victims", "-- comment", "'); DROP TABLE victims; --", "\\x27", "U&'\\0041'", "$tag$x$tag$",
    f"x'); \\! touch {CANARY}", f"\\! touch {CANARY}", f"x\n\\! touch {CANARY}", "x'); DROP TABLE victims; --",
    f"\\o |touch {CANARY}", f"\\copy victims to program 'touch {CANARY}'", ":x", ":'x'", "system touch PWNED",
]  # fmt: skip
PATHS = [
    "../../etc/passwd", "..", ".", "./", "...", "..\\..\\windows", "%2e%2e%2f", "%00", "/absolute", "a/b", "a#b",
    "a?b=c&d=e", "a b", "+plus", "a;b=c", "//evil.example/x", "@evil.example", "http://evil.example/",
]  # fmt: skip
UNICODE = [
    f"；touch {CANARY}", f"\u202etouch {CANARY}", "\u200btouch\u200b", f"ｔｏｕｃｈ {CANARY}", "\ufeffBOM",
    "\u2028line\u2029sep", "\u0085nel", "e\u0301\u0301", f"中文; touch {CANARY}", f"🙂$(touch {CANARY})", "ѕh -c id",
    "\u00a0nbsp", "\U0001f4a9" * 3, "{{ x }}", "{{x}}", "${{x}}", "{% raw %}",
]  # fmt: skip
NUL = [f"\x00touch {CANARY}", f"{CANARY}\x00", "\x00", f"a\x00; touch {CANARY}"]

CORES = [*SHELL, *OPTIONS, *ANSI, *SQL, *PATHS, *UNICODE]


def _corpus() -> list[str]:
    variants = [*CORES, *NUL]
    variants += [f"-{core}" for core in CORES]
    variants += [f"v1.0.0{core}" for core in CORES]
    variants += [f"{core}{core}" for core in CORES[::3]]
    return list(dict.fromkeys(variants))


CORPUS = _corpus()
RUNBOOK = Runbook.model_validate(
    {
        "schema": 1,
        "id": "inj",
        "title": "injection",
        "service": "svc",
        "params": {"x": {"prompt": "anything"}},
        "plans": {"A": {"title": "A", "steps": [{"id": "m", "kind": "manual"}]}},
    }
)


def test_the_corpus_is_large_and_covers_every_family() -> None:
    assert len(CORPUS) >= 200
    for needle in (
        ";",
        "|",
        "&",
        "$(",
        "`",
        "'",
        '"',
        "\n",
        "\r",
        "\x00",
        "--upload-pack=",
        "ext::",
        "\x1b[",
        "DROP TABLE",
        "\u202e",
        "..",
    ):
        assert any(needle in payload for payload in CORPUS), needle
    assert any(payload.startswith("-") for payload in CORPUS)


def values(payload: str) -> Iterator[tuple[str, Value]]:
    """The payload as an operator's ``--var`` (through the engine's resolver) and as a value
    captured from a step's JSON output."""
    yield "--var", resolve(RUNBOOK, {"x": payload}, builtins={}).scope["x"]
    captured = capture_values({"x": "json:data.x"}, json.dumps({"data": {"x": payload}}))["x"]
    assert captured == payload
    yield "captured", Value(captured)


def cases() -> Iterator[tuple[str, str, Value]]:
    for payload in CORPUS:
        for origin, value in values(payload):
            assert value.text == payload and not value.trusted
            yield payload, origin, value


def _assert_clean(failures: list[str], total: int) -> None:
    assert total >= 2 * len(CORPUS)
    assert not failures, f"{len(failures)} of {total} cases failed:\n" + "\n".join(failures[:40])


# --- shell: /bin/sh really runs the rendered command ------------------------------------------


def _has_break(payload: str) -> bool:
    return "\n" in payload or "\r" in payload


def _option(payload: str) -> bool:
    """Starts with a dash: an option where it starts an argument (refused unless -- came first)."""
    return payload.startswith("-")


def _not_plain(payload: str) -> bool:
    """What may not go where another interpreter parses the text again."""
    return not re.fullmatch(r"[\w.,:/@%+=-]*", payload)


def _not_integer(payload: str) -> bool:
    return not re.fullmatch(r"-?[0-9]+", payload)


def _reparsed(payload: str) -> bool:
    """What may not go into a command that runs a program parsing text again."""
    return _not_plain(payload) or _option(payload)


PY = sys.executable
# (name, template, what the file must hold around the payload, which payloads may be refused,
# the shells that run it). OUT is each template's own file; every template is run for real.
SHELL_TEMPLATES: list[tuple[str, str, str, str, Callable[[str], bool], tuple[str, ...]]] = [
    ("bare", "printf '%s' {{ x }} > OUT", "", "", _option, BOTH),
    ("double-quoted", "printf '%s' \"{{ x }}\" > OUT", "", "", _option, BOTH),
    ("single-quoted", "printf '%s' 'pre-{{ x }}' > OUT", "pre-", "", lambda p: False, BOTH),
    ("after-double-dash", "printf -- '%s' {{ x }} > OUT", "", "", lambda p: False, BOTH),
    ("command-substitution", "printf '%s' \"$(printf '%s|' {{ x }})\" > OUT", "", "|", _option, BOTH),
    ("dq-in-substitution", "printf '%s' \"$(printf '%s|' \"{{ x }}\")\" > OUT", "", "|", _option, BOTH),
    ("backquoted", "printf '%s' \"`printf '%s|' {{ x }}`\" > OUT", "", "|", _option, BOTH),
    ("sq-in-backquotes", "printf '%s' \"`printf '%s|' 'a{{ x }}'`\" > OUT", "a", "|", lambda p: False, BOTH),
    ("arithmetic", "printf '%s' $(( {{ x }} + 0 )) > OUT", "", "", _not_integer, BOTH),
    ("dq-arithmetic", "printf '%s' \"$(( {{ x }} ))\" > OUT", "", "", _not_integer, BOTH),
    ("param-default", "printf '%s' ${RB_UNSET:-{{ x }}} > OUT", "", "", _reparsed, BOTH),
    ("dq-param-default", "printf '%s' \"${RB_UNSET:-{{ x }}}\" > OUT", "", "", _reparsed, BOTH),
    ("here-document", "cat > OUT <<EOF\n{{ x }}\nEOF", "", "\n", _not_plain, BOTH),
    ("quoted-here-document", "cat > OUT <<-'EOF'\n\t{{ x }}.\nEOF", "", ".\n", _not_plain, BOTH),
    ("here-document-to-sh", "sh <<'EOF'\nprintf -- '%s' {{ x }} > OUT\nEOF", "", "", _reparsed, BOTH),
    ("here-string", "cat > OUT <<< {{ x }}", "", "\n", _option, ("bash",)),
    ("here-string-to-sh", "sh <<< \"printf '%s' {{ x }} > OUT\"", "", "", _reparsed, ("bash",)),
    ("double-bracket", "[[ {{ x }} -eq {{ x }} ]] && printf '%s' ok > OUT", "ok", "", _not_integer, ("bash",)),
    ("arithmetic-command", "(( {{ x }} == {{ x }} )) && printf '%s' ok > OUT", "ok", "", _not_integer, ("bash",)),
    ("sh-c", "sh -c \"printf -- '%s' {{ x }} > OUT\"", "", "", _reparsed, BOTH),
    ("bash-c", "bash -c \"printf '%s' {{ x }} > OUT\"", "", "", _reparsed, BOTH),
    ("pipe-to-sh", "echo 'printf %s {{ x }} > OUT' | sh", "", "", _reparsed, BOTH),
    ("dq-pipe-to-sh", "printf '%s\\n' \"printf '%s' '{{ x }}' > OUT\" | sh", "", "", _reparsed, BOTH),
    ("eval", "eval \"printf '%s' {{ x }}\" > OUT", "", "", _reparsed, BOTH),
    ("xargs", "printf '%s\\n' {{ x }} | xargs printf '%s' > OUT", "", "", _reparsed, BOTH),
    ("env-split", 'env -S "printf %s {{ x }}" > OUT', "", "", _reparsed, BOTH),
    ("python-c", f"{PY} -S -c \"import sys; sys.stdout.write('{{{{ x }}}}')\" > OUT", "", "", _reparsed, ("sh",)),
    ("psql", "printf '%s\\n' \"SELECT '{{ x }}';\" | psql -X -q -At \"$PGDSN\" > OUT", "", "\n", _reparsed, ("sh",)),
    ("ssh", "ssh lab \"printf '%s' {{ x }}\" > OUT", "", "", _reparsed, ("sh",)),
    ("sudo", "sudo -n printf '%s' {{ x }} > OUT", "", "", _option, ("sh",)),
    ("sudo-shell", "sudo -n -s printf '%s' {{ x }} > OUT", "", "", _reparsed, ("sh",)),
    ("comment", "printf '%s' ok > OUT # {{ x }}", "ok", "", _has_break, BOTH),
]
# Stand-ins that do what the real program does with its arguments (tests cannot ssh or sudo
# to somewhere real from a plain command): ssh joins its arguments and gives them to a shell,
# as OpenSSH does; sudo runs its argument vector, or with -s gives it to a shell.
SHIMS = {
    "ssh": '#!/bin/sh\nshift\nexec sh -c "$*"\n',
    "sudo": '#!/bin/sh\nshell=\nwhile [ "${1#-}" != "$1" ]; do [ "$1" = -s ] && shell=1; shift; done\n'
    '[ -n "$shell" ] && exec sh -c "$*"\nexec "$@"\n',
}


def _rendered(value: Value, shell: str, failures: list[str], tally: dict[str, int], origin: str, payload: str):
    commands, expected = [], {}
    for name, template, prefix, suffix, refusable, shells in SHELL_TEMPLATES:
        if shell not in shells:
            continue
        tally["tried"] += 1
        try:
            commands.append(render_shell(template.replace("OUT", f"out-{name}"), {"x": value}))
        except RenderError as exc:
            tally["refused"] += 1
            if "\x00" not in payload and not refusable(payload):
                failures.append(f"{origin} {shell} {name} {payload!r}: refused ({exc})")
            continue
        if "\x00" in payload:
            failures.append(f"{origin} {shell} {name} {payload!r}: a NUL was not refused")
        body = payload.lstrip("\t") if "<<-" in template else payload
        expected[f"out-{name}"] = (prefix + ("" if prefix == "ok" else body) + suffix).encode()
    return commands, expected


BATCH = 120  # cases per shell script


def test_shell(tmp_path: Path, pg_dsn: str) -> None:
    """Every template, for every value, run by a real dash and a real bash, each case in its own
    subshell and directory (a script runs a batch of cases), each template writing its own
    file: each value arrives literal or is refused, and nothing runs."""
    abs_canary_before = ABS_CANARY.exists()
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, text in SHIMS.items():
        (shims / name).write_text(text)
        (shims / name).chmod(0o755)
    env = {"PATH": f"{shims}:{os.environ['PATH']}", "PGDSN": pg_dsn, "PGCONNECT_TIMEOUT": "5"}
    failures: list[str] = []
    tally = {"tried": 0, "literal": 0, "refused": 0, "executed": 0}
    runs: list[tuple[str, str, str, dict[str, bytes], Path, str]] = []
    total = 0
    first: dict[tuple[str, str], list[str]] = {}
    for index, (payload, origin, value) in enumerate(cases()):
        total += 1
        for shell in ("sh", "bash"):
            commands, expected = _rendered(value, shell, failures, tally, origin, payload)
            if first.setdefault((payload, shell), commands) != commands:
                failures.append(f"{origin} {shell} {payload!r}: rendered unlike the same value from elsewhere")
            elif commands and origin == "captured":
                # The same text as the --var case, which runs: count it as what that one shows.
                tally["literal"] += len(expected)
            elif commands:
                work = tmp_path / "cases" / f"{index}-{shell}"
                work.mkdir(parents=True)
                runs.append((shell, origin, payload, expected, work, "\n".join(commands)))
    (tmp_path / "rc").mkdir()
    for shell in ("sh", "bash"):
        mine = [run for run in runs if run[0] == shell]
        for start in range(0, len(mine), BATCH):
            script = tmp_path / f"{shell}-{start}.sh"
            script.write_text(
                "".join(
                    f"( cd {w} || exit 99\n{cmds}\n)\necho $? > {tmp_path}/rc/{w.name}\n"
                    for *_, w, cmds in mine[start : start + BATCH]
                )
            )
            subprocess.run([f"/bin/{shell}", str(script)], cwd=tmp_path, capture_output=True, timeout=300, env=env)
    for shell, origin, payload, expected, work, _ in runs:
        written = {path.name: path.read_bytes() for path in work.iterdir()}
        if (work / CANARY).exists():
            tally["executed"] += 1
        tally["literal"] += sum(written.get(k) == v for k, v in expected.items())
        rc = (tmp_path / "rc" / work.name).read_text().strip()
        if rc != "0" or written != expected:
            wrong = sorted(k for k in expected.keys() | written.keys() if expected.get(k) != written.get(k))
            failures.append(f"{origin} {shell} {payload!r}: exit {rc}, wrong { ({k: written.get(k) for k in wrong}) }")
    print(f"\nshell injection ({len(SHELL_TEMPLATES)} contexts, {total} values): {tally}")
    assert ABS_CANARY.exists() == abs_canary_before
    assert tally["executed"] == 0 and tally["tried"] == tally["literal"] + tally["refused"], tally
    _assert_clean(failures, total)


def test_shell_refuses_what_it_cannot_quote() -> None:
    value = {"x": Value("EOF")}
    with pytest.raises(RenderError, match="would end the here-document early"):
        render_shell("cat <<EOF\n{{ x }}\nEOF", value)
    with pytest.raises(RenderError, match="here-document delimiter"):
        render_shell("cat <<{{ x }}\nbody\nEOF", value)
    with pytest.raises(RenderError, match="backslash escapes inside backquotes"):
        render_shell('echo "`printf \\"%s\\" {{ x }}`"', value)
    assert render_shell("cat <<EOF\n{{ x }}x\nEOF", value) == "cat <<EOF\nEOFx\nEOF"
    option = {"x": Value("--upload-pack=touch PWNED")}
    with pytest.raises(RenderError, match="would be read as an option; put -- before it"):
        render_shell("git fetch origin {{ x }}", option)
    assert render_shell("git fetch origin -- {{ x }}", option) == "git fetch origin -- '--upload-pack=touch PWNED'"
    with pytest.raises(RenderError, match="goes to ssh, which parses it again as code"):
        render_shell("ssh app1 systemctl restart {{ x }}", {"x": Value("orders; touch PWNED")})
    with pytest.raises(RenderError, match="goes to /usr/bin/psql"):
        render_shell("echo ok 2>&1 | /usr/bin/psql -c \"SELECT '{{ x }}'\"", {"x": Value("x'; DROP TABLE t; --")})
    assert render_shell("ssh app1 systemctl restart {{ x }}", {"x": Value("orders-api@2")}) == (
        "ssh app1 systemctl restart orders-api@2"
    )
    hostile = {"x": Value("a[$(touch PWNED)]")}
    refusals = {
        "echo sum=$(( {{ x }} + 1 ))": "is in an arithmetic expansion",
        "echo 'echo got {{ x }}' | sh": "goes to sh, which parses it again",
        "printf '%s\\n' \"INSERT INTO t VALUES ('{{ x }}');\" | psql \"$DSN\"": "goes to psql",
        "echo {{ x }} | xargs rm": "goes to xargs",
        "sudo -s echo {{ x }}": "goes to sudo -s",
        "echo ${x:-{{ x }}}": "is inside a ${...} expansion",
        "let n={{ x }}": "is in a let command",
        "a[{{ x }}]=1": "is an array index",
        "$(echo {{ x }}) --now": "names the program to run",
        "{{ x }} --now": "names the program to run",
        "(echo {{ x }}) | sh": "goes to sh",
        "echo $(printf %s {{ x }}) | grep . | bash": "goes to bash",
        "echo \\{{ x }}": "follows a backslash",
        "echo ${{ x }}": "follows a bare $",
        "mysql -e \"SELECT '{{ x }}'\"": "goes to mysql",
        "cat <<< {{ x }} | python3": "goes to python3",
    }
    for template, reason in refusals.items():
        with pytest.raises(RenderError, match=re.escape(reason)):
            render_shell(template, hostile)
    # Assignments are the program's environment (data); separate commands are not fed the value.
    password = {"x": Value("p@ss w'rd")}
    assert render_shell("PGPASSWORD={{ x }} psql -c 'SELECT 1'", password) == (
        "PGPASSWORD='p@ss w'\"'\"'rd' psql -c 'SELECT 1'"
    )
    assert render_shell("printf '%s' {{ x }} > f; python3 -c 'print(1)'", password).startswith("printf '%s' 'p@ss")
    assert render_shell("echo {{ x }} || sh -c true", password).startswith("echo 'p@ss")
    assert render_shell("echo $(( {{ n }} + 1 )) ${y:-{{ v }}}", {"n": Value("-5"), "v": Value("v1.2")}) == (
        "echo $(( -5 + 1 )) ${y:-v1.2}"
    )
    # The author's own values are the author's business: quoted, never refused.
    assert render_shell("rm -f {{ x }}", {"x": Value("-v", trusted=True)}) == "rm -f -v"


# --- git: refused, or an exact ref name that git looks up and never takes as an option --------


async def test_git_refs(git_repo: GitLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    head = git_repo.head()
    executor = GitExecutor()
    action = GitAction(kind="git", id="ref", repo=str(git_repo.path), ref="{{ x }}", checkout=True)
    failures: list[str] = []
    total = 0
    refused = 0
    for payload, origin, value in cases():
        total += 1
        scope = {"x": value}
        try:
            ref = render_ref("{{ x }}", scope)
        except RenderError:
            ref = None
            refused += 1
        if ref is not None and (ref != payload or ref.startswith("-") or ".." in ref or ref.startswith("ext::")):
            failures.append(f"{origin} {payload!r}: accepted as {ref!r}")
        ctx = ExecContext(RUNBOOK, scope, {}, SshSettings())
        outcome = await executor.run(action, ctx, lambda *_: None)
        expected = "error" if ref is None else "failed"
        if outcome.status != expected:
            failures.append(f"{origin} {payload!r}: {outcome.status} ({outcome.detail})")
    assert git_repo.head() == head
    assert not (git_repo.path / CANARY).exists() and not (tmp_path / CANARY).exists()
    assert refused > len(CORPUS) // 2  # most of the corpus is not a legal ref name at all
    _assert_clean(failures, total)


# --- SQL: always a bind parameter, never query text -------------------------------------------


def test_sql(pg: PgLab, pg_dsn: str) -> None:
    failures: list[str] = []
    total = 0
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE victims (id int)")
        conn.execute("INSERT INTO victims VALUES (1), (2)")
        for payload, origin, value in cases():
            total += 1
            try:
                query, params = render_sql("SELECT {{ x }}::text AS v, length({{ x }}::text) AS n", {"x": value})
            except RenderError:
                if "\x00" not in payload:
                    failures.append(f"{origin} {payload!r}: refused without a NUL")
                continue
            if "\x00" in payload:
                failures.append(f"{origin} {payload!r}: a NUL was not refused")
                continue
            if params != [payload, payload] or query != "SELECT %s::text AS v, length(%s::text) AS n":
                failures.append(f"{origin} {payload!r}: spliced into {query!r}")
                continue
            row = conn.execute(query, params).fetchone()
            if row != (payload, len(payload)):
                failures.append(f"{origin} {payload!r}: returned {row!r}")
        assert conn.execute("SELECT count(*) FROM victims").fetchone() == (2,)
    _assert_clean(failures, total)


async def test_sql_through_the_executor(pg_dsn: str) -> None:
    """The product's path: a bound query in a read-write transaction, the answer captured."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE victims (id int)")
    executor = SqlExecutor()
    action = SqlAction(
        kind="sql",
        id="echo",
        dsn=pg_dsn,
        query="SELECT {{ x }}::text AS v",
        read_only=False,
        capture={"v": "json:value"},
    )
    failures: list[str] = []
    total = 0
    try:
        for payload, origin, value in cases():
            total += 1
            outcome = await executor.run(action, ExecContext(RUNBOOK, {"x": value}, {}, SshSettings()), lambda *_: None)
            expected = "error" if "\x00" in payload else "ok"
            if outcome.status != expected or (expected == "ok" and outcome.captured != {"v": payload}):
                failures.append(f"{origin} {payload!r}: {outcome.status} {outcome.captured} ({outcome.detail})")
    finally:
        await executor.close()
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM victims").fetchone() == (0,)
    _assert_clean(failures, total)


# --- HTTP: one percent-encoded path segment and query value; a JSON string in a body ----------


async def test_http(web: WebLab) -> None:
    executor = HttpExecutor()
    action = HttpAction(
        kind="http", id="call", method="POST", url="{{ api }}/echo/{{ x }}?q={{ x }}", json={"v": "{{ x }}"}
    )
    failures: list[str] = []
    total = 0
    try:
        for payload, origin, value in cases():
            total += 1
            web.reset()
            ctx = ExecContext(RUNBOOK, {"api": Value(web.base, trusted=True), "x": value}, {}, SshSettings())
            outcome = await executor.run(action, ctx, lambda *_: None)
            if "\x00" in payload:
                if outcome.status != "error" or web.received():
                    failures.append(f"{origin} {payload!r}: NUL not refused ({outcome.status})")
                continue
            received = web.received()
            if outcome.status != "ok" or len(received) != 1:
                failures.append(f"{origin} {payload!r}: {outcome.status} ({outcome.detail}), {len(received)} requests")
                continue
            request = received[0]
            segment = request.path.removeprefix("/echo/")
            if "/" in segment or unquote(segment) != payload:
                failures.append(f"{origin} {payload!r}: path arrived as {request.path!r}")
            if request.query != f"q={segment}":
                failures.append(f"{origin} {payload!r}: query arrived as {request.query!r}")
            if json.loads(request.body) != {"v": payload}:
                failures.append(f"{origin} {payload!r}: body arrived as {request.body!r}")
    finally:
        await executor.close()
    _assert_clean(failures, total)


# --- headers and DSNs: one header value, one libpq parameter ---------------------------------


async def test_header(web: WebLab) -> None:
    """A value in a header arrives as that header's value (HTTP trims its ends) or is refused:
    never a second header, never a second request."""
    executor = HttpExecutor()
    action = HttpAction(kind="http", id="h", url="{{ api }}/echo/h", headers={"X-Probe": "{{ x }}"})
    failures: list[str] = []
    tally = {"tried": 0, "literal": 0, "refused": 0}
    try:
        for payload, origin, value in cases():
            tally["tried"] += 1
            web.reset()
            ctx = ExecContext(RUNBOOK, {"api": Value(web.base, trusted=True), "x": value}, {}, SshSettings())
            outcome = await executor.run(action, ctx, lambda *_: None)
            received = web.received()
            if outcome.status == "error" and not received:
                tally["refused"] += 1
                odd = any((ord(ch) < 32 and ch != "\t") or ch == "\x7f" for ch in payload) or payload != payload.strip()
                if not (odd or not payload.isascii()):
                    failures.append(f"{origin} {payload!r}: refused ({outcome.detail})")
                continue
            if len(received) != 1:
                failures.append(f"{origin} {payload!r}: {outcome.status}, {len(received)} requests")
                continue
            headers = {k.lower(): v for k, v in received[0].headers.items()}
            if headers.get("x-probe") != payload.strip(" \t") or any(
                k.startswith("x-") and k != "x-probe" for k in headers
            ):
                failures.append(f"{origin} {payload!r}: arrived as {headers!r}")
                continue
            tally["literal"] += 1
    finally:
        await executor.close()
    print(f"\nheader injection: {tally}")
    _assert_clean(failures, len(CORPUS) * 2)


async def test_dsn(pg: PgLab) -> None:
    """A value in a DSN is one libpq parameter (here the database name): it reaches the server
    as that name, or is refused; it never sets host, user, options or anything else."""
    executor = SqlExecutor()
    dsn = f"host={pg.host} port={pg.port} user={pg.user} password={pg.password} dbname={{{{ x }}}}"
    action = SqlAction(kind="sql", id="d", dsn=dsn, query="SELECT current_database()", read_only=True)
    failures: list[str] = []
    tally = {"tried": 0, "literal": 0, "refused": 0}
    try:
        for payload in CORPUS[::3]:  # a connection each: a third of the corpus, every family in it
            tally["tried"] += 1
            value = resolve(RUNBOOK, {"x": payload}, builtins={}).scope["x"]
            outcome = await executor.run(action, ExecContext(RUNBOOK, {"x": value}, {}, SshSettings()), lambda *_: None)
            if outcome.status == "error":
                tally["refused"] += 1
                if "\x00" not in payload and payload.strip():
                    failures.append(f"{payload!r}: refused ({outcome.detail})")
                continue
            # It went as the database name and nothing else: same server, the server's answer.
            where = f"sql d on {pg.host}:{pg.port}/"
            if (
                outcome.status != "failed"
                or not outcome.detail.startswith(where)
                # (the server's line is cut at a line break in the name: the message keeps its first line)
                or ("does not exist" not in outcome.detail and len(payload.splitlines()) < 2)
            ):
                failures.append(f"{payload!r}: {outcome.status} ({outcome.detail})")
                continue
            tally["literal"] += 1
    finally:
        await executor.close()
    print(f"\nDSN injection: {tally}")
    assert not failures, f"{len(failures)} of {tally['tried']} failed:\n" + "\n".join(failures[:40])
