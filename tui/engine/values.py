"""The values a session substitutes: built-ins, params, vars, secrets and captured values.

Each value carries where it came from: ``trusted`` only when the runbook's author wrote it
(a var or a default), ``secret`` for secrets and secret params and anything built from
them. Operator input (``--var``, the reason) and captured output are never trusted, so the
placeholder renderers always encode them for where they land.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui.runbook.durations import parse_duration
from tui.runbook.hosts import render_hosts, render_ssh
from tui.runbook.model import Host, Param, Runbook, SshSettings
from tui.runbook.placeholders import RenderError, Value, is_secret, is_trusted, names_in, render_text


class ValuesError(ValueError):
    """A param, var or secret cannot be resolved; the message is one line for the operator."""


@dataclass
class Values:
    scope: dict[str, Value]
    secrets: list[str] = field(default_factory=list)  # every secret text, for the redactor
    params: dict[str, str] = field(default_factory=dict)  # as journaled: secret params masked
    hosts: dict[str, Host] = field(default_factory=dict)
    ssh: SshSettings = field(default_factory=SshSettings)
    read: set[str] = field(default_factory=set)  # the secrets read (or stood in for, in a dry run)
    # Secrets a dry run stood in for, one line each: a live run would have stopped on them.
    stand_ins: list[str] = field(default_factory=list)
    # The same resolution again with more secrets: ``again(secrets=known, needed=names)``.
    again: Callable[..., Values] | None = None


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def _check_param(name: str, param: Param, text: str) -> str:
    try:
        return _checked(name, param, text)
    except ValuesError as exc:
        if param.secret:
            # The reason names the param, never the value typed for a secret.
            raise ValuesError(str(exc).replace(repr(text), "the value given")) from None
        raise


def _checked(name: str, param: Param, text: str) -> str:
    if param.type == "int":
        if not re.fullmatch(r"[-+]?\d+", text.strip()):
            raise ValuesError(f"param {name!r}: {text!r} is not a whole number")
        text = str(int(text))
    elif param.type == "bool":
        if text.strip().lower() not in _TRUE | _FALSE:
            raise ValuesError(f"param {name!r}: {text!r} is not true or false")
        text = "true" if text.strip().lower() in _TRUE else "false"
    elif param.type == "choice" and text not in param.choices:
        raise ValuesError(f"param {name!r}: {text!r} is not one of {', '.join(param.choices)}")
    elif param.type == "duration":
        try:
            parse_duration(text)
        except ValueError as exc:
            raise ValuesError(f"param {name!r}: {exc}") from None
    if param.pattern and not re.fullmatch(param.pattern, text):
        raise ValuesError(f"param {name!r}: {text!r} does not match {param.pattern!r}")
    return text


def _default_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_secret(name: str, runbook: Runbook) -> str:
    spec = runbook.secrets[name]
    if spec.env is not None:
        text = os.environ.get(spec.env)
        if text is None:
            raise ValuesError(f"secret {name!r}: environment variable {spec.env} is not set")
        return text
    assert spec.file is not None
    try:
        return Path(spec.file).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValuesError(
            f"secret {name!r}: cannot read {spec.file}: {getattr(exc, 'strerror', None) or exc}"
        ) from None


def resolve(
    runbook: Runbook,
    given: Mapping[str, str],
    *,
    builtins: Mapping[str, Value],
    profile: str | None = None,
    ssh_config: str | None = None,
    known_hosts: str | None = None,
    secrets: Mapping[str, str] | None = None,
    dry_run: bool = False,
    needed: Collection[str] | None = None,
) -> Values:
    """Resolve every value for a session. ``given`` are the operator's ``--var`` values;
    ``secrets`` (name -> text) skips reading secrets (tests, resume); ``needed`` limits the
    secrets read to those (the chosen plan's, see ``tui.runbook.uses``): the others stay unread
    and refuse to render. In a ``dry_run`` a secret that cannot be read stands in masked
    rather than stopping the run, and ``stand_ins`` says so."""
    unknown = [k for k in given if k not in runbook.params and k not in runbook.vars and not _profile_var(runbook, k)]
    if unknown:
        known = ", ".join(sorted({*runbook.params, *runbook.vars})) or "none"
        raise ValuesError(f"--var {unknown[0]}: no param or var of that name (known: {known})")
    if profile is not None and profile not in runbook.profiles:
        known = ", ".join(runbook.profiles) or "none"
        raise ValuesError(f"profile {profile!r} is not defined (known: {known})")

    scope: dict[str, Value] = dict(builtins)
    values = Values(scope)

    unreadable: list[str] = []
    for name in runbook.secrets:
        if secrets is not None and name in secrets:
            text = secrets[name]
        else:
            try:
                text = read_secret(name, runbook)
            except ValuesError as exc:
                if needed is not None and name not in needed:
                    # Not this plan's: no reason to stop. (One that can be read is read all the
                    # same, so the redactor masks it if a command prints it.)
                    missing = f"secret {name!r} was not read: the chosen plan does not use it"
                    scope[name] = Value("", secret=True, missing=missing)
                    continue
                if not dry_run:
                    unreadable.append(str(exc))
                    continue
                # A dry run executes nothing: show where the secret goes (masked) without it.
                text = f"dry-run-stand-in-for-{name}"
                values.stand_ins.append(f"{exc}: a live run would stop here")
        scope[name] = Value(text, trusted=False, secret=True)
        values.secrets.append(text)
        values.read.add(name)
    if unreadable:
        raise ValuesError("; ".join(unreadable))

    for name, param in runbook.params.items():
        if name in given and given[name] == "" and param.required:
            raise ValuesError(f"param {name!r} is required: it cannot be empty")
        if name in given:
            text, trusted = (_check_param(name, param, given[name]) if given[name] else ""), False
        elif param.default is not None:
            text, trusted = _check_param(name, param, _default_text(param.default)), True
        elif param.required:
            raise ValuesError(f"param {name!r} is required: pass --var {name}=VALUE")
        else:
            text, trusted = "", True
        empty = ""
        if not text and not param.allow_empty:
            empty = f"param {name!r} is empty: give it a value (--var {name}=VALUE) or set allow_empty = true"
        scope[name] = Value(text, trusted=trusted, secret=param.secret, empty=empty)
        if param.secret and text:
            values.secrets.append(text)
        values.params[name] = "••••••" if param.secret and text else text

    templates: dict[str, str] = {k: _default_text(v) for k, v in runbook.vars.items()}
    if profile is not None:
        templates.update({k: _default_text(v) for k, v in runbook.profiles[profile].vars.items()})
    for name in list(templates):
        if name in given:
            scope[name] = Value(given[name], trusted=False)
            del templates[name]
    _resolve_vars(templates, scope)

    hosts = dict(runbook.hosts)
    ssh = runbook.ssh
    if profile is not None:
        hosts.update(runbook.profiles[profile].hosts)
        ssh = runbook.profiles[profile].ssh or ssh
    try:
        values.hosts = render_hosts(hosts, scope)
        values.ssh = render_ssh(ssh, scope, config=ssh_config, known_hosts=known_hosts)
    except RenderError as exc:
        raise ValuesError(f"hosts / [ssh]: {exc}") from None
    values.again = functools.partial(
        resolve,
        runbook,
        given,
        builtins=builtins,
        profile=profile,
        ssh_config=ssh_config,
        known_hosts=known_hosts,
        dry_run=dry_run,
    )
    return values


def _profile_var(runbook: Runbook, name: str) -> bool:
    return any(name in p.vars for p in runbook.profiles.values())


def _resolve_vars(templates: dict[str, str], scope: dict[str, Value]) -> None:
    """Vars may use params and other vars; resolve in dependency order, refusing cycles."""
    pending = dict(templates)
    for _ in range(len(templates) + 1):
        if not pending:
            return
        for name, template in list(pending.items()):
            refs = [ref for ref, _ in names_in(template)]
            if any(ref in pending and ref != name for ref in refs):
                continue
            if name in refs:
                raise ValuesError(f"var {name!r} refers to itself")
            used = [scope[ref] for ref in refs if ref in scope]
            missing = next((v.missing for v in used if v.missing), "")
            if missing:
                # Built from a secret nobody read: it refuses to render in turn, naming the secret.
                scope[name] = Value("", secret=True, missing=missing)
                del pending[name]
                continue
            try:
                scope[name] = Value(
                    render_text(template, scope),
                    trusted=is_trusted(template, scope),
                    secret=is_secret(template, scope),
                    empty=next((v.empty for v in used if v.empty), ""),
                )
            except RenderError as exc:
                raise ValuesError(f"var {name!r}: {exc}") from None
            del pending[name]
    raise ValuesError(f"vars refer to each other in a cycle: {', '.join(sorted(pending))}")
