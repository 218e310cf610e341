"""The command line as people script against it: the config file and its precedence, --version,
--help examples, `-` for stdin/stdout, stdout vs stderr, shell completion, causes in a log file,
and the JSON record's schema."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tui import cli, config, logs, paths
from tui.engine.journal import JOURNAL_NAME, read_events

REPO = Path(__file__).resolve().parent.parent

# Written from SPEC alone: a local-only rollback with a check, a captured value, an optional
# step, a verification, a checklist item ticked by the check, and a record field.
RUNBOOK = """
schema = 1
id = "conventions"
title = "conventions rollback"
service = "conventions"
current_version = "v2"
target_version = "v1"

[params.reason]
prompt = "What went wrong?"
required = true

[params.time]
prompt = "a param named like a time key, whose value is no moment"
default = "half past"

[vars]
dir = "{dir}"

[[checks]]
id = "dir_ok"
title = "the work dir exists"
kind = "local"
run = "test -d {{{{ dir }}}}"

[plans.A]
title = "put v1 back"
target_minutes = 1
[[plans.A.steps]]
id = "write"
kind = "local"
run = "echo {{{{ target_version }}}} > {{{{ dir }}}}/VERSION && cat {{{{ dir }}}}/VERSION"
capture = {{ ts = "stdout" }}
[[plans.A.steps]]
id = "extra"
kind = "local"
run = "echo extra"
optional = true
ask = "run the extra?"
[[plans.A.verify]]
id = "is_v1"
kind = "local"
run = "grep -qx v1 {{{{ dir }}}}/VERSION"

[checklists]
pre = ["told people", {{ text = "dir exists", check = "dir_ok" }}]

[record.fields]
"Version written" = "{{{{ ts }}}}"
"""


@pytest.fixture
def runbook(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    path = tmp_path / "conventions.toml"
    path.write_text(RUNBOOK.format(dir=work), encoding="utf-8")
    return path


def rb(*args: str | Path, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        env={**os.environ, **(env or {})},
    )


def no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stdout + out.stderr


# --- the config file ---------------------------------------------------------------------


def write_config(text: str) -> Path:
    path = Path(os.environ["RBCONSOLE_CONFIG"])
    path.write_text(text, encoding="utf-8")
    return path


def test_each_level_beats_the_next(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert config.load().operator is None  # the default: the engine names the login name
    write_config('operator = "from-file"\nknown_hosts = "/file/kh"\n')
    assert (config.load().operator, config.load().known_hosts) == ("from-file", "/file/kh")
    monkeypatch.setenv("RBCONSOLE_OPERATOR", "from-env")
    assert (config.load().operator, config.load().known_hosts) == ("from-env", "/file/kh")
    flags = config.load({"operator": "from-flag", "known_hosts": None})
    assert (flags.operator, flags.known_hosts) == ("from-flag", "/file/kh")  # an absent flag hides nothing


def test_the_search_path_env_replaces_the_files_and_flags_add(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in "abc")
    write_config(f'runbooks = ["{a}"]\n')
    assert paths.runbook_dirs()[1:] == [a]
    monkeypatch.setenv("RBCONSOLE_PATH", f"{b}{os.pathsep}{c}")
    assert paths.runbook_dirs()[1:] == [b, c]
    assert paths.runbook_dirs([str(a)])[1:] == [b, c, a]
    assert paths.runbook_dirs()[0] == paths.bundled_runbooks()


def test_the_config_operator_reaches_the_record_and_the_flag_beats_it(runbook: Path) -> None:
    write_config('operator = "ana"\n')
    for argv in (["run", runbook], ["--operator", "bo", "run", runbook]):
        done = rb(*argv, "--plan", "A", "--var", "reason=r")
        assert done.returncode == 0, done.stdout + done.stderr
    sessions = sorted(paths.sessions_dir().iterdir())
    operators = sorted(read_events(s / JOURNAL_NAME)[0].data["operator"] for s in sessions)
    assert operators == ["ana", "bo"]
    write_config("")
    done = rb("run", runbook, "--plan", "A", "--var", "reason=r")
    newest = max(paths.sessions_dir().iterdir(), key=lambda d: d.stat().st_mtime)
    assert read_events(newest / JOURNAL_NAME)[0].data["operator"] == getpass.getuser()


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ('operator = "ana"\nthme = "nord"\n', ":2:1: thme:", "unknown setting"),
        ("operator = \n", ":1:12:", "TOML syntax error"),
        ('runbooks = "not-a-list"\n', ":1:1: runbooks:", "tuple"),
        ('theme = "no-such-theme"\n', ":1:1: theme:", "not a theme"),
        ('operator = ""\n', ":1:1: operator:", "empty"),
    ],
)
def test_a_broken_config_file_is_one_line_naming_file_line_and_exit_2(text: str, where: str, says: str) -> None:
    path = write_config(text)
    done = rb("sessions")
    assert done.returncode == 2
    no_traceback(done)
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"rbconsole: {path}{where}") and says in line, line
    assert done.stdout == ""


def test_a_broken_variable_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    done = rb("sessions", env={"RBCONSOLE_THEME": "paisley"})
    assert done.returncode == 2 and done.stderr.startswith("rbconsole: RBCONSOLE_THEME: 'paisley' is not a theme")


def test_a_config_file_named_but_missing_is_refused(tmp_path: Path) -> None:
    done = rb("sessions", env={"RBCONSOLE_CONFIG": str(tmp_path / "nope.toml")})
    assert done.returncode == 2
    assert done.stderr == f"rbconsole: {tmp_path / 'nope.toml'}: no such config file (RBCONSOLE_CONFIG names it)\n"


def test_version_says_the_runbook_folders_and_the_config_file(tmp_path: Path) -> None:
    done = rb("--version", env={"RBCONSOLE_CONFIG": str(tmp_path / "absent.toml")})
    assert done.returncode == 0
    first, bundled, conf = done.stdout.splitlines()
    assert re.fullmatch(r"rbconsole \d+\.\d+\.\d+\S*", first)
    assert bundled == f"runbooks: {paths.bundled_runbooks()} (bundled)"
    assert conf == f"config:   {tmp_path / 'absent.toml'} (not found: the defaults apply)"
    write_config(f'runbooks = ["{tmp_path}"]\n')
    lines = rb("--version").stdout.splitlines()
    assert lines[2] == f"          {tmp_path} (from the config file)"
    assert lines[3] == f"config:   {os.environ['RBCONSOLE_CONFIG']} (exists)"
    write_config("bad = \n")
    assert rb("--version").stdout.splitlines()[-1].endswith("(exists, but cannot be read: Invalid value)")


async def test_the_config_theme_is_the_consoles(tmp_path: Path) -> None:
    from tui.app import RbConsoleApp, create_app

    write_config('theme = "nord"\n')
    args = cli.parse_args(["open", str(REPO / "tests" / "data" / "spec_example.toml")])
    cli._apply_config(args)
    app: RbConsoleApp = create_app(args.file, theme=args.theme)
    async with app.run_test(size=(80, 24)):
        assert app.theme == "nord"


# --- help, stdin/stdout, stdout vs stderr ------------------------------------------------


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.build_parser().parse_args(argv)
    return out.getvalue()


def test_every_subcommand_has_help_with_an_example() -> None:
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]  # the test may look inside
    names = sorted(sub.choices)
    assert {
        "open",
        "validate",
        "run",
        "drill",
        "export",
        "sessions",
        "resume",
        "schema",
        "import",
        "completion",
    } <= set(names)
    for name in ["", *names]:
        text = _help([name, "--help"] if name else ["--help"])
        example = text.split("example:\n", 1)
        assert len(example) == 2, f"{name or 'rbconsole'} --help has no example"
        assert example[1].lstrip().startswith(f"rbconsole {name}".rstrip()), (name, example[1])


def test_validate_reads_standard_input_and_keeps_results_on_stdout(runbook: Path) -> None:
    good = rb("validate", "-", stdin=runbook.read_text(encoding="utf-8"))
    assert (good.returncode, good.stdout, good.stderr) == (0, "<stdin>: ok\n", "")
    bad = rb(
        "validate", "-", runbook, stdin='schema = 1\nid = "x"\ntitle = "t"\nservice = "s"\n[plans.A]\ntitle = "A"\n'
    )
    assert bad.returncode == 1
    problem, ok = bad.stdout.splitlines()
    assert problem.startswith("<stdin>:5:1: ") and ok == f"{runbook}: ok"
    assert bad.stderr == "1 of 2 runbook(s) invalid\n"


def test_export_to_dash_is_stdout(runbook: Path) -> None:
    done = rb("run", runbook, "--plan", "A", "--var", "reason=r")
    assert done.returncode == 0, done.stderr
    (session,) = paths.sessions_dir().iterdir()
    for out in (["-o", "-"], ["--output", "-"]):
        exported = rb("export", session.name, "--format", "json", *out)
        assert exported.returncode == 0 and exported.stderr == ""
        assert json.loads(exported.stdout)["session"] == session.name
    assert not Path("-").exists()


# --- shell completion -------------------------------------------------------------------


def _complete(script: Path, words: list[str]) -> list[str]:
    line = " ".join(words)
    probe = (
        f"source {script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        f"COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}\n"
        "_shtab_rbconsole rbconsole\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_bash_script_is_valid_and_completes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("shtab")  # a dependency (pyproject); only a virtualenv made before it lacks it
    done = rb("completion", "bash")
    assert done.returncode == 0 and done.stderr == ""
    script = tmp_path / "rbconsole.bash"
    script.write_text(done.stdout, encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True, timeout=30).returncode == 0
    assert _complete(script, ["rbconsole", "va"]) == ["validate"]
    assert set(_complete(script, ["rbconsole", "re"])) == {"resume"}
    assert "drill" in _complete(script, ["rbconsole", "--operator", "ana", "d"])  # past a global flag
    assert _complete(script, ["rbconsole", "run", "x.toml", "--pl"]) == ["--plan"]
    assert set(_complete(script, ["rbconsole", "export", "s", "--format", ""])) == {"md", "json"}
    (tmp_path / "plan.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert "plan.toml" in _complete(script, ["rbconsole", "validate", "pl"])  # files for FILE


def test_the_zsh_script_is_a_compdef_of_every_command() -> None:
    pytest.importorskip("shtab")
    done = rb("completion", "zsh")
    assert done.returncode == 0 and done.stdout.startswith("#compdef rbconsole")
    for name in ("validate", "run", "drill", "export", "resume", "schema", "import", "completion"):
        assert f"    {name}:'" in done.stdout, name
    assert shutil.which("zsh"), "zsh is installed by .ci/run"
    assert subprocess.run(["zsh", "-n"], input=done.stdout, text=True, timeout=30).returncode == 0


# --- causes to a log file -------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("boom: the cause a maintainer needs")


def test_an_internal_error_is_one_line_naming_the_log_with_the_traceback_in_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.commands.sessions as sessions

    monkeypatch.setattr(sessions, "main", _boom)
    assert cli.main(["sessions"]) == cli.EXIT_FAILED
    out, err = capsys.readouterr()
    log = logs.default_log()
    assert out == ""
    assert err == f"rbconsole sessions: internal error (RuntimeError); the cause is in {log}\n"
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: boom: the cause a maintainer needs" in text


def test_an_error_during_a_session_goes_to_its_folder(
    runbook: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tui.headless.runner as headless

    real = headless.Session.start

    def start_then_break(*args: Any, **kwargs: Any) -> Any:
        session = real(*args, **kwargs)
        raise RuntimeError(f"broke after {session.id} started")

    monkeypatch.setattr(headless.Session, "start", start_then_break)
    assert cli.main(["run", str(runbook), "--plan", "A", "--var", "reason=r"]) == cli.EXIT_FAILED
    (session,) = paths.sessions_dir().iterdir()
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == f"rbconsole run: internal error (RuntimeError); the cause is in {session / logs.LOG_NAME}"
    assert "Traceback" in (session / logs.LOG_NAME).read_text(encoding="utf-8")
    assert "Traceback" not in "\n".join(capsys.readouterr())


async def test_the_console_edge_names_the_log(monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.app import RbConsoleApp

    app = RbConsoleApp()
    seen: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **kw: seen.append(str(message)))

    async def broken() -> None:
        raise ValueError("console boom")

    async with app.run_test(size=(80, 24)) as pilot:
        worker = app.engine(broken(), "Do a thing")
        await worker.wait()
        await pilot.pause()
    log = logs.default_log()
    assert seen == [f"ValueError: console boom (the cause is in {log})"]
    assert "ValueError: console boom" in log.read_text(encoding="utf-8")


# --- installed like a tool ------------------------------------------------------------------


async def test_textual_run_can_build_the_app_with_no_arguments() -> None:
    from screens.picker import PickerScreen
    from tui.app import RbConsoleApp

    app = RbConsoleApp()  # what `textual run tui.app:RbConsoleApp` does
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)


# --- the JSON record ------------------------------------------------------------------------


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")


def _moments(node: Any, key: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [m for k, v in node.items() if k not in ("params", "captured") for m in _moments(v, k)]
    if isinstance(node, list):
        return [m for v in node for m in _moments(v, key)]
    return [(key, node)] if key in ("started", "ended", "time", "ts") else []


def test_a_real_runs_json_record_matches_its_schema(runbook: Path) -> None:
    done = rb("run", runbook, "--plan", "A", "--var", "reason=r", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    (session,) = paths.sessions_dir().iterdir()
    record = json.loads(rb("export", session.name, "--format", "json").stdout)
    schema = json.loads(rb("schema", "--record").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema, format_checker=checker).iter_errors(record)
    ]
    assert not errors, errors
    assert record["schema_version"] == 1
    moments = _moments(record)
    assert len(moments) > 10
    assert all(v is None or RFC3339.match(v) for _, v in moments), [
        m for m in moments if m[1] and not RFC3339.match(m[1])
    ]
    assert record["basic"]["params"]["time"] == "half past"  # a param's value is not a moment
    assert record["steps"][0]["captured"] == {"ts": "v1"}
    # The schema is closed where it matters: a key it does not know is an error.
    record["basic"]["surprise"] = 1
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(record))


def test_the_runbook_schema_is_still_the_default() -> None:
    assert json.loads(rb("schema").stdout)["title"].startswith("rbconsole runbook")


def test_with_nothing_configured_a_command_skips_the_settings_machinery(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom tui.cli import main\nmain(['sessions'])\n"
        "print('pydantic_settings' in sys.modules, 'pydantic' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in config.ENVIRONMENT.values() and k != "RBCONSOLE_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config-here")  # platformdirs' user config dir on Linux
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.splitlines()[-1] == "False False", done.stdout + done.stderr
    env["RBCONSOLE_OPERATOR"] = "ana"  # something to read: read and validated as before
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.splitlines()[-1] == "True True", done.stdout + done.stderr
