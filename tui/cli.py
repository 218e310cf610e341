"""The ``rbconsole`` command line: argument parsing, the user's config, and the edge where an
error becomes one line (its cause goes to a log file); each command lives in ``tui.commands``.

Commands are imported when chosen, so ``rbconsole --version`` loads nothing heavy. Results go
to stdout, diagnostics to stderr; ``-`` names standard input or output where a file is taken.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tui import __version__
from tui.engine.results import EXIT_FAILED, EXIT_OK, EXIT_USAGE

# Global flags work on either side of the subcommand (``rbconsole --operator ana run ...`` and
# ``rbconsole run ... --operator ana``). The top-level parser holds their defaults; each
# subcommand's copy defaults to SUPPRESS so an absent flag never hides one given before it.
# A repeatable flag's copy goes to its own dest, and :func:`_merge` appends it to the top's.
GLOBAL = "global"
TARGETING = "targeting"
_SUB = "_after_command"


def _flags(p: argparse.ArgumentParser, which: str, *, sub: bool) -> None:
    def add(*names: str, repeat: bool = False, **kw: object) -> argparse.Action:
        dest = names[0].lstrip("-").replace("-", "_")
        if sub:
            kw["default"] = argparse.SUPPRESS
            if repeat:
                kw["dest"] = dest + _SUB
        elif repeat:
            kw["default"] = []
        return p.add_argument(*names, action="append" if repeat else "store", **kw)  # type: ignore[arg-type]

    if which == GLOBAL:
        _completes(
            add("--runbooks", repeat=True, metavar="DIR", help="another runbook folder (repeatable)"), "DIRECTORY"
        )
        add("--operator", metavar="NAME", help="who the record names (default: the config file's, else the login name)")
        _completes(
            add("--ssh-config", metavar="F", help="ssh_config file (overrides the runbook's [ssh] config)"), "FILE"
        )
        _completes(
            add("--known-hosts", metavar="F", help="known_hosts file (overrides the runbook's [ssh] known_hosts)"),
            "FILE",
        )
    else:
        add("--var", repeat=True, metavar="K=V", help="set a param or var (repeatable)")
        add("--profile", metavar="P", help="a [profiles.P] of the runbook (e.g. staging, lab)")


def _merge(args: argparse.Namespace) -> argparse.Namespace:
    for name in ("runbooks", "var"):
        after = getattr(args, name + _SUB, None)
        if after is not None:
            setattr(args, name, [*getattr(args, name, []), *after])
            delattr(args, name + _SUB)
    return args


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plan", metavar="ID", help="the plan to run")
    p.add_argument(
        "--dry-run", action="store_true", help="print every resolved command, request and query; run nothing"
    )
    p.add_argument("--yes", action="store_true", help="answer every confirmation and manual step with yes (recorded)")
    p.add_argument("--reason", metavar="TEXT", help="why this rollback is happening")
    p.add_argument("--severity", metavar="LEVEL", help="the incident's severity level (e.g. P0)")
    _add_record(p)
    _add_headless_choices(p)


def _add_record(p: argparse.ArgumentParser) -> None:
    _completes(p.add_argument("--record", metavar="OUT.md", help="write the rollback record here when done"), "FILE")


def _add_headless_choices(p: argparse.ArgumentParser) -> None:
    """The decisions a headless run cannot ask about: failed pre-checks to go past, optional steps to run."""
    p.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="CHECK_ID=REASON",
        help="go past a failed blocking pre-check on purpose, saying why (repeatable; journaled)",
    )
    p.add_argument(
        "--with",
        dest="with_steps",
        action="append",
        default=[],
        metavar="STEP_ID",
        help="run this optional step headless (repeatable; otherwise optional steps are skipped)",
    )


def _file(p: argparse.ArgumentParser, *names: str, **kw: Any) -> None:
    _completes(p.add_argument(*names, **kw), "FILE")


# What `rbconsole completion` completes a value with (shtab's FILE / DIRECTORY), set only while it
# builds the parser: shtab is imported for that command alone.
_completions: dict[str, Any] = {}


def _completes(action: argparse.Action, kind: str) -> None:
    if kind in _completions:
        action.complete = _completions[kind]  # type: ignore[attr-defined]


class _Version(argparse.Action):
    """``--version``: the version, the runbook folders searched and the config file in use."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kw.get("help"))

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kw: Any) -> None:
        # Light on purpose (no pydantic): whether the file exists and what it lists; the commands validate it.
        import tomli

        from tui import paths

        config = paths.config_file()
        listed: object = []
        state = "not found: the defaults apply"
        if config.is_file():
            state = "exists"
            try:
                listed = tomli.loads(config.read_text(encoding="utf-8")).get("runbooks", [])
            except (OSError, UnicodeDecodeError, tomli.TOMLDecodeError) as exc:
                state = f"exists, but cannot be read: {getattr(exc, 'msg', None) or exc}"
        searched = os.environ.get("RBCONSOLE_PATH")
        if searched:
            folders, source = [e for e in searched.split(os.pathsep) if e], "RBCONSOLE_PATH"
        else:
            folders = [e for e in listed if isinstance(e, str)] if isinstance(listed, list) else []
            source = "the config file"
        lines = [f"rbconsole {__version__}", f"runbooks: {paths.bundled_runbooks()} (bundled)"]
        lines += [f"          {Path(d).expanduser()} (from {source})" for d in folders]
        lines.append(f"config:   {config} ({state})")
        sys.stdout.write("\n".join(lines) + "\n")  # a result, on stdout (argparse's exit message is stderr)
        parser.exit()


EXAMPLES: dict[str, str] = {
    "": "rbconsole --runbooks ~/runbooks           the picker over the bundled runbooks and ~/runbooks",
    "open": "rbconsole open runbooks/shop.toml --plan A --reason 'v2 errors'",
    "validate": "rbconsole validate runbooks/*.toml\n  rbconsole import plan.md | rbconsole validate -",
    "run": "rbconsole run shop.toml --plan A --var release=v1.4.2 --yes --record out.md",
    "drill": "rbconsole drill shop.toml --scenario bad-release --headless --dry-run",
    "export": "rbconsole export 20261201-224400-ee8a64 --format json -o - | jq .basic",
    "sessions": "rbconsole sessions",
    "resume": "rbconsole resume ee8a64 --headless --yes",
    "schema": "rbconsole schema > runbook.schema.json\n  rbconsole schema --record > record.schema.json",
    "import": "rbconsole import plan.md -o runbooks/plan.toml",
    "completion": "rbconsole completion bash > ~/.local/share/bash-completion/completions/rbconsole\n"
    "  rbconsole completion zsh > ~/.zfunc/_rbconsole        (with fpath+=~/.zfunc before compinit)",
}


def _epilog(name: str) -> str:
    return "example:\n  " + EXAMPLES[name]


def build_parser(completions: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
    """The parser; ``completions`` ("FILE", "DIRECTORY" -> shtab's) marks what values complete with."""
    _completions.clear()
    _completions.update(completions or {})
    try:
        return _build()
    finally:
        _completions.clear()


def _build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rbconsole",
        description="A terminal runbook console for production rollbacks, incident response and drills.",
        epilog=_epilog("") + "\n\n`rbconsole COMMAND --help` shows a command's flags and an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action=_Version, help="print the version, the runbook folders and the config file, and exit"
    )
    _flags(parser, GLOBAL, sub=False)
    _flags(parser, TARGETING, sub=False)  # for the console on the picker (no subcommand)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    _flags(common, GLOBAL, sub=True)
    targeting = argparse.ArgumentParser(add_help=False)
    _flags(targeting, TARGETING, sub=True)

    def command(name: str, help: str, *, targets: bool = False) -> argparse.ArgumentParser:
        parents = [common, targeting] if targets else [common]
        return sub.add_parser(
            name,
            help=help,
            description=help[:1].upper() + help[1:] + ".",
            parents=parents,
            epilog=_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    p = command("open", "the console straight on one runbook", targets=True)
    _file(p, "file", metavar="FILE")
    p.add_argument("--plan", metavar="ID", help="with --reason: start the incident on this plan at once")
    p.add_argument("--reason", metavar="TEXT", help="what went wrong (the incident form's reason)")

    p = command("validate", "check runbooks; file:line:col: message per problem")
    _file(p, "files", metavar="FILE", nargs="+", help="a runbook file, or - for standard input")

    p = command("run", "headless execution for automation and CI", targets=True)
    _file(p, "file", metavar="FILE")
    _add_run_options(p)
    p.add_argument("--force", action="store_true", help="run even while another live session runs this plan")

    p = command("drill", "a timed, clearly marked rehearsal (console, or --headless)", targets=True)
    _file(p, "file", metavar="FILE")
    p.add_argument("--scenario", metavar="S", help="a [[drills]] scenario id")
    p.add_argument("--headless", action="store_true", help="run without the console")
    _add_run_options(p)

    p = command("export", "render the record of a recorded session")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--format", choices=["md", "json"], default="md")
    _file(p, "-o", "--output", metavar="FILE", help="write here instead of stdout (- is stdout)")

    command("sessions", "list recorded sessions")

    p = command("resume", "reopen an interrupted session where it stopped", targets=True)
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--headless", action="store_true", help="continue without the console")
    p.add_argument("--yes", action="store_true", help="answer confirmations with yes (recorded)")
    _add_record(p)
    _add_headless_choices(p)

    p = command("schema", "print the JSON Schema of the runbook format (or of the JSON record)")
    p.add_argument("--record", action="store_true", help="the schema of `export --format json` instead")

    p = command("import", "turn a Markdown rollback plan into a runbook skeleton")
    _file(p, "plan", metavar="PLAN.md", help="the Markdown document (`-`: standard input)")
    _file(p, "-o", "--output", metavar="FILE", help="write the runbook here (`-` or none: stdout)")
    p.add_argument("--force", action="store_true", help="write the runbook even when it does not validate")

    p = command("completion", "print a shell completion script")
    p.add_argument("shell", choices=["bash", "zsh"])
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, global flags merged from both sides of the subcommand (exits 2 on bad usage)."""
    parser = build_parser()
    args = _merge(parser.parse_args(argv))
    args.command = args.command or "console"
    if args.command not in ("console", "open", "run", "drill", "resume") and (args.var or args.profile):
        parser.error(f"--var and --profile do not apply to {args.command}")
    return args


def _apply_config(args: argparse.Namespace) -> str:
    """Flags over the environment over the config file over the defaults (README: Configuration);
    what is wrong with the settings, in one line, or ""."""
    from tui import paths

    args.theme = None
    if not paths.settings_to_read():  # nothing but flags: no need to load the settings machinery
        return ""
    from tui import config

    try:
        settings = config.load(
            {"operator": args.operator, "ssh_config": args.ssh_config, "known_hosts": args.known_hosts}
        )
    except config.ConfigError as exc:
        return str(exc)
    args.operator = settings.operator
    args.ssh_config = settings.ssh_config
    args.known_hosts = settings.known_hosts
    args.theme = settings.theme  # the search path: tui.paths reads it (the picker rescans)
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)  # --version and --help end here, having loaded nothing heavy
    command = args.command
    from tui import logs

    logs.configure()
    broken = _apply_config(args)
    if broken:
        print(f"rbconsole: {broken}", file=sys.stderr)
        return EXIT_USAGE
    # Local steps reach the interpreter rbconsole runs on (the demo's service lives in this
    # package, which a bare `python3` on PATH may not have).
    os.environ.setdefault("RBCONSOLE_PYTHON", sys.executable)
    before = _sessions()
    mask = logs.LazyMask(lambda: _runbook_secrets(args, before))
    logs.mask(mask)
    try:
        if command == "completion":  # built from this parser: a command module would import cli back
            return _completion(args.shell)
        module = importlib.import_module(f"tui.commands.{command.replace('-', '_')}")
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        print("rbconsole: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:  # the edge: one line for the operator, the traceback in the log it names
        log = logs.report(f"rbconsole {command}", exc, _this_session(args, before))
        name = "rbconsole" if command == "console" else f"rbconsole {command}"
        print(f"{name}: internal error ({type(exc).__name__}); the cause is in {log}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        logs.unmask(mask)


def _completion(shell: str) -> int:
    """``rbconsole completion bash|zsh``: a static script from the parser itself (shtab): Tab never
    starts Python; subcommands, each command's flags, files for FILE and folders for --runbooks."""
    try:
        import shtab
    except ImportError:  # an install that skipped the dependency (a stale virtualenv)
        print("rbconsole completion: needs the shtab package (pip install shtab)", file=sys.stderr)
        return EXIT_FAILED
    script = shtab.complete(build_parser({"FILE": shtab.FILE, "DIRECTORY": shtab.DIRECTORY}), shell=shell)
    sys.stdout.write(script if script.endswith("\n") else script + "\n")
    return EXIT_OK


def _runbook_secrets(args: argparse.Namespace, before: set[str]) -> Callable[[str], str] | None:
    """What the log masks before a session exists (its redactor masks the log from then on): the
    secrets of the command's runbook, its FILE or the one the resumed session ran, by now."""
    path = getattr(args, "file", None) or _journaled_runbook(_this_session(args, before))
    if not path or path == "-":
        return None
    from tui.engine.known_secrets import known_secrets
    from tui.engine.redact import Redactor
    from tui.runbook.loader import load

    runbook = load(path).runbook
    if runbook is None:
        return None
    given = dict(item.split("=", 1) for item in getattr(args, "var", None) or [] if "=" in item)
    return Redactor(known_secrets(runbook, given), logged=False)


def _journaled_runbook(session: Path | None) -> str | None:
    """The runbook a recorded session ran (``resume`` names a session, not a file)."""
    if session is None:
        return None
    from tui.engine.journal import JOURNAL_NAME, read_events

    try:
        events = read_events(session / JOURNAL_NAME)
    except OSError:
        return None
    return str(events[0].data.get("runbook_path") or "") or None if events else None


def _sessions() -> set[str]:
    from tui import paths

    root = paths.sessions_dir()
    return set(os.listdir(root)) if root.is_dir() else set()


def _this_session(args: argparse.Namespace, before: set[str]) -> Path | None:
    """The folder of the session this command ran (resumed, or the one it created), if one."""
    from tui import paths

    root = paths.sessions_dir()
    new = sorted(_sessions() - before)
    if len(new) == 1:
        return root / new[0]
    ref = getattr(args, "session", None)
    if args.command == "resume" and ref:
        from tui.engine.store import SessionNotFound, find

        try:
            return find(ref)
        except SessionNotFound:
            return None
    return None
