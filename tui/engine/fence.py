"""Fencing a drill in: every target its plan would reach, and whether it is the drill's own.

A target is where an action acts: an SSH host, a URL's host, a DSN's host and database, a
webhook, a value in a command that names an environment (a kube context, an API base URL).
Each is resolved twice: with the session's values and with the runbook's own values alone
(no profile, no ``--var``). A target that comes out the same both ways comes from the
production defaults: a fenced run (a drill with a profile, or a profile whose ``kind`` is
staging or lab) refuses to start on it, unless the profile lists it in ``shared``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path as FsPath
from urllib.parse import urlsplit

from tui.engine import literal_targets
from tui.engine.api import SessionError
from tui.engine.values import Values, ValuesError, resolve
from tui.runbook.hosts import fan_out
from tui.runbook.model import (
    GitAction,
    HttpAction,
    LocalAction,
    Monitor,
    NotifyAction,
    PrometheusAction,
    Runbook,
    SqlAction,
    SshAction,
    Step,
)
from tui.runbook.placeholders import BUILTINS, PLACEHOLDER, RenderError, Value, names_in, render_text
from tui.runbook.positions import Path, Positions, scan
from tui.runbook.uses import closure, var_templates

# A value substituted into a command names an environment when it looks like an address or its
# name says so (kube_context, admin_api, db_host, status_url ...). Documented in the README.
TARGET_NAME = re.compile(
    r"(^|_)(host|hosts|url|api|dsn|endpoint|context|kubeconfig|server|addr|address|cluster|target)$"
)
_ADDRESS = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_LOOPBACK = re.compile(r"^([a-z][a-z0-9+.-]*://)?([^@/]*@)?(localhost|127\.0\.0\.1|\[::1\])([:/]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    where: str  # file:line of the action (or of the field that names the target)
    action: str  # "plan A step flags", "pre-check health", "drill d1 setup inject"
    kind: str  # "ssh host", "URL", "DSN", "webhook", "command value"
    value: str  # the target as the session would reach it
    source: str  # "var admin_api", "host app1", "written in the runbook", "$DATABASE_URL"
    status: str  # fenced (the profile's or --var's) | shared (marked) | production
    fix: str = ""  # how to make it the profile's (a production target only)

    def line(self) -> str:
        return f"{self.where}: {self.action}: {self.kind} {self.value} from {self.source}"


def applies(runbook: Runbook, profile: str | None, mode: str) -> bool:
    """Whether a session is fenced in: a drill with a profile, or a staging / lab profile."""
    if profile is None or profile not in runbook.profiles:
        return False
    return mode == "drill" or runbook.profiles[profile].fenced


def _labelled(runbook: Runbook, plan: str | None, scenario: str | None) -> Iterable[tuple[Path, str, Step]]:
    for i, check in enumerate(runbook.checks):
        yield ("checks", i), f"pre-check {check.id}", check
    if plan is not None and plan in runbook.plans:
        for part, what in (("steps", "step"), ("verify", "verification")):
            for i, step in enumerate(getattr(runbook.plans[plan], part)):
                yield ("plans", plan, part, i), f"plan {plan} {what} {step.id}", step
    for d, drill in enumerate(runbook.drills):
        if drill.id != scenario:
            continue
        for part in ("setup", "teardown"):
            for i, step in enumerate(getattr(drill, part)):
                yield ("drills", d, part, i), f"drill {drill.id} {part} {step.id}", step


def defaults_of(runbook: Runbook, values: Values, given: Mapping[str, str], profile: str | None) -> Mapping[str, Value]:
    """The scope the runbook's own values give: no profile and no ``--var`` for vars. Secrets keep
    the session's text, except those whose source the profile moved (a stand-in then)."""
    moved: set[str] = set()
    if profile in runbook.profiles:
        chosen = runbook.profiles[profile]
        moved = set(chosen.secrets) | {n for n, s in runbook.secrets.items() if s.env and s.env in chosen.env}
    secrets = {
        name: (f"<production {name}>" if name in moved else values.scope[name].text)
        for name in runbook.secrets
        if name in values.scope
    }
    params = {name: values.scope[name].text for name in runbook.params if name in values.scope}
    builtins = {name: value for name, value in values.scope.items() if name in BUILTINS}
    try:
        return resolve(runbook, params, builtins=builtins, secrets=secrets, dry_run=True, needed=set()).scope
    except ValuesError:
        # Cannot tell where the defaults point: fail closed, as if every target were theirs.
        return values.scope


def _render(template: str, scope: Mapping[str, Value]) -> str | None:
    try:
        return render_text(template, scope)
    except RenderError:
        return None


def _host_of_url(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}" if parts.hostname else url
    except ValueError:
        return url


def _dsn_target(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        from psycopg.conninfo import conninfo_to_dict

        params = conninfo_to_dict(text)
    except Exception:
        return text
    return f"{params.get('host', 'localhost')}:{params.get('port', '5432')}/{params.get('dbname', '')}"


# The var a target written in the runbook could become (the fix the refusal suggests).
_SUGGESTED = {
    "URL": "api",
    "git repo": "repo_dir",
    "database host": "db_host",
    "kube context": "kube_context",
    "kube cluster": "kube_cluster",
    "kube server": "kube_server",
    "kubeconfig": "kubeconfig",
    "docker host": "docker_host",
    "docker context": "docker_context",
}


def _repo_path(text: str | None) -> str | None:
    return str(FsPath(text).expanduser()) if text else None


def _connection(action: Step, field: str) -> tuple[str | None, str | None]:
    """An action's ``field`` and ``field_env`` (a DSN, a check's DSN, a webhook)."""
    return getattr(action, field, None), getattr(action, f"{field}_env", None)


def _source(template: str, templates: Mapping[str, str]) -> str:
    names = [name for name, _ in names_in(template)]
    if not names:
        return "written in the runbook"
    first = names[0]
    return f"var {first}" if first in templates else f"{{{{ {first} }}}}"


class _Fence:
    def __init__(
        self,
        runbook: Runbook,
        raw: Runbook,
        path: str,
        values: Values,
        defaults: Mapping[str, Value],
        profile: str | None,
        given: Iterable[str],
    ) -> None:
        self.runbook, self.raw, self.values, self.defaults = runbook, raw, values, defaults
        self.shared = set(runbook.profiles[profile].shared) if profile in runbook.profiles else set()
        self.profile_hosts = set(runbook.profiles[profile].hosts) if profile in runbook.profiles else set()
        self.templates = var_templates(raw, None)
        try:
            self.text = FsPath(path).read_text(encoding="utf-8")
            self.positions: Positions | None = scan(self.text)
        except OSError:
            self.text, self.positions = "", None
        self.path = path
        self.profile = profile or ""
        self.monitors = {m.id for m in runbook.monitors}
        self.profile_vars = set(runbook.profiles[profile].vars) if profile in runbook.profiles else set()
        self.given = set(given)
        self.renamed = set(runbook.profiles[profile].env) if profile in runbook.profiles else set()
        self.bound_env = environment_bound(raw)
        self.found: list[Target] = []

    def where(self, at: Path) -> str:
        line = self.positions.locate(at)[0] if self.positions is not None else 1
        return f"{self.path}:{line}"

    def add(
        self,
        at: Path | str,
        label: str,
        kind: str,
        now: str,
        was: str | None,
        source: str,
        keys: set[str],
        chosen: str = "",
        compared: str | None = None,
    ) -> None:
        # ``chosen``: the name the target comes from; the operator's --var for it is a choice,
        # even of production's own value. ``compared``: the value itself when ``now`` is masked.
        local = kind == "git repo" and chosen in self.profile_vars  # a path names a place on this machine only
        if (now if compared is None else compared) != was or chosen in self.given or local:
            status = "fenced"
        elif keys & self.shared:
            status = "shared"
        else:
            status = "production"
        fix = self.fix(kind, now, source, keys) if status == "production" else ""
        where = at if isinstance(at, str) else self.where(at)
        self.found.append(Target(where, label, kind, now, source, status, fix))

    def fix(self, kind: str, value: str, source: str, keys: set[str]) -> str:
        """How the profile takes a production target over (one clause)."""
        p = self.profile
        if source.startswith("var "):
            name = source[4:]
            return f"set {name} in [profiles.{p}] vars (or --var {name}=...)"
        if source.startswith("host "):
            name = source[5:]
            return f"set [profiles.{p}.hosts.{name}] address (or move the group in [profiles.{p}] groups)"
        if source.startswith("$"):
            name = source[1:]
            field = "webhook_env" if kind == "webhook" else "check_dsn_env" if kind == "check DSN" else "dsn_env"
            ids = sorted(keys - {name})
            action = (
                f", or [profiles.{p}] actions.{ids[0]} = {{ {field} = ... }}"
                if ids and kind != "environment variable"
                else ""
            )
            return f'rename it in [profiles.{p}] env = {{ {name} = "{p.upper()}_{name}" }}{action}'
        if source == "the session's ssh_config":
            return f"set [profiles.{p}.ssh] config (or --ssh-config)"
        if source.startswith("{{"):
            name = source.strip("{} ")
            if name in self.runbook.secrets:
                return f"read it from elsewhere: [profiles.{p}] secrets.{name} = {{ env = ... }}"
            return f"give it with --var {name}=..."
        field = {"DSN": "dsn", "check DSN": "check_dsn", "webhook": "webhook"}.get(kind)
        ids = sorted(keys)
        if field is not None and ids:
            return f"[profiles.{p}] actions.{ids[0]} = {{ {field} = ... }}, or write it as a var the profile sets"
        if kind == "ssh host" and source == "written in the command":
            return f"make it an ssh step on a [hosts] entry that [profiles.{p}.hosts] sets"
        name = "prometheus" if kind == "URL" and keys & self.monitors else _SUGGESTED.get(kind, "NAME")
        if value == literal_targets.CURRENT_CONTEXT:
            return f"add --context {{{{ {name} }}}} and set {name} in [profiles.{p}] vars"
        return f"write {{{{ {name} }}}} for it and set {name} in [profiles.{p}] vars"

    def template(self, at: Path, label: str, action_id: str, kind: str, template: str, shape: Callable) -> None:
        now = shape(_render(template, self.values.scope))
        if now is None:
            return  # it cannot be resolved: the step fails on it, it reaches nothing
        was = shape(_render(template, self.defaults))
        names = [n for n, _ in names_in(template)]
        used = closure(names, self.templates)
        first = names[0] if names else ""
        shown = self.masked(template, now)
        self.add(at, label, kind, shown, was, _source(template, self.templates), used | {action_id}, first, now)

    def action(self, at: Path, label: str, action: Step, raw: Step | None) -> None:
        if isinstance(action, SshAction):
            self.ssh(at, label, action)
        elif isinstance(action, HttpAction | PrometheusAction):
            self.template((*at, "url"), label, action.id, "URL", action.url, _host_of_url)
        elif isinstance(action, SqlAction):
            check = at[0] == "checks" or (len(at) > 2 and at[2] == "verify")
            field = "check_dsn" if check and _connection(action, "check_dsn") != (None, None) else "dsn"
            raw_field = (
                "check_dsn" if check and raw is not None and _connection(raw, "check_dsn") != (None, None) else "dsn"
            )
            moved = raw is not None and _connection(raw, raw_field) != _connection(action, field)
            self.connection(
                at, label, action, field, "check DSN" if field == "check_dsn" else "DSN", moved, _dsn_target
            )
        elif isinstance(action, NotifyAction):
            moved = raw is not None and _connection(raw, "webhook") != _connection(action, "webhook")
            self.connection(at, label, action, "webhook", "webhook", moved, _host_of_url)
        elif isinstance(action, GitAction):
            self.template((*at, "repo"), label, action.id, "git repo", action.repo, _repo_path)
        if isinstance(action, LocalAction | SshAction):
            self.command(at, label, action)
            self.literals(at, label, action)
        # A wait's polled check is a pre-check: it is fenced as one.

    def connection(
        self, at: Path, label: str, action: Step, field: str, kind: str, moved: bool, shape: Callable
    ) -> None:
        """A DSN or webhook, given as a value or as the environment variable that holds it."""
        value, env = _connection(action, field)
        if env is not None:
            shown = f"${env}"
            self.add((*at, f"{field}_env"), label, kind, shown, None if moved else shown, shown, {action.id, env})
        elif value is not None and moved:
            now = shape(_render(value, self.values.scope)) or value
            self.add((*at, field), label, kind, self.masked(value, now), None, "the profile", {action.id})
        elif value is not None:
            self.template((*at, field), label, action.id, kind, value, shape)

    def masked(self, template: str, shown: str) -> str:
        """What a target may show: a value that comes from a secret shows only its name."""
        secret = next((n for n in closure([n for n, _ in names_in(template)], self.templates) if self._secret(n)), None)
        return f"<secret {secret}>" if secret else shown

    def _secret(self, name: str) -> bool:
        value = self.values.scope.get(name)
        return value is not None and value.secret

    def literals(self, at: Path, label: str, action: LocalAction | SshAction) -> None:
        """Targets written in the command itself: nothing but the runbook can move them."""
        for found in literal_targets.find(action.run, local=isinstance(action, LocalAction)):
            where = self.where((*at, "run"))
            if self.positions is not None:
                line = self.positions.locate_in_value(self.text, (*at, "run"), found.index)[0]
                where = f"{self.path}:{line}"
            if found.via_ssh_config:
                now = f"{found.value} (ssh_config {self.values.ssh.config or 'default'})"
                config_was = str(FsPath(self.raw.ssh.config).expanduser()) if self.raw.ssh.config else None
                was = now if self.values.ssh.config == config_was else None
                self.add(where, label, found.kind, now, was, "the session's ssh_config", {action.id})
            else:
                self.add(where, label, found.kind, found.value, found.value, "written in the command", {action.id})

    def monitor(self, at: Path, monitor: Monitor) -> None:
        if monitor.live and monitor.url is not None:
            self.template((*at, "url"), f"monitor {monitor.id}", monitor.id, "URL", monitor.url, _host_of_url)

    def ssh(self, at: Path, label: str, action: SshAction) -> None:
        names = fan_out(action, self.runbook)
        config_now, config_was = self.values.ssh.config, self.raw.ssh.config
        config_was = str(FsPath(config_was).expanduser()) if config_was else None
        for name in names:
            host = self.values.hosts.get(name)
            if host is None:
                continue
            original = self.raw.hosts.get(name)
            was_address = _render(original.address, self.defaults) if original is not None else None
            now = f"{host.address}" + (f":{host.port}" if host.port else "")
            was = None
            if original is not None and name not in self.profile_hosts and config_now == config_was:
                was = f"{was_address}" + (f":{original.port}" if original.port else "")
            self.add((*at, "host"), label, "ssh host", now, was, f"host {name}", {name, action.id})

    def command(self, at: Path, label: str, action: LocalAction | SshAction) -> None:
        if isinstance(action, LocalAction):
            for name in sorted(self.bound_env):
                if re.search(rf"\$\{{?{re.escape(name)}(?![A-Za-z0-9_])", action.run):
                    shown = f"${name}"
                    was = None if name in self.renamed else shown
                    self.add((*at, "run"), label, "environment variable", shown, was, shown, {name, action.id})
        for match in PLACEHOLDER.finditer(action.run):
            name = match.group(1)
            value = self.values.scope.get(name)
            if value is None or value.secret:
                continue
            if not (TARGET_NAME.search(name) or _ADDRESS.match(value.text)) or name not in self.templates:
                continue
            if isinstance(action, SshAction) and _LOOPBACK.match(value.text):
                continue  # the host's own service (redis://localhost): the host is the target, fenced above
            was = self.defaults.get(name)
            used = closure([name], self.templates) | {action.id}
            was_text = was.text if was else None
            self.add((*at, "run"), label, "command value", value.text, was_text, f"var {name}", used, name)


def environment_bound(runbook: Runbook) -> set[str]:
    """Environment variables that say where the runbook acts: its secrets', DSNs' and webhooks'."""
    names = {s.env for s in runbook.secrets.values() if s.env}
    for _, _, action in _labelled_all(runbook):
        for key in ("dsn_env", "check_dsn_env", "webhook_env"):
            if (value := getattr(action, key, None)) is not None:
                names.add(value)
    return names


def _labelled_all(runbook: Runbook) -> Iterable[tuple[Path, str, Step]]:
    yield from _labelled(runbook, None, None)
    for plan in runbook.plans:
        yield from (item for item in _labelled(runbook, plan, None) if item[0][0] == "plans")
    for drill in runbook.drills:
        yield from (item for item in _labelled(runbook, None, drill.id) if item[0][0] == "drills")


def targets(
    runbook: Runbook,
    raw: Runbook,
    path: str,
    values: Values,
    given: Mapping[str, str],
    *,
    profile: str | None,
    plan: str | None,
    scenario: str | None,
) -> list[Target]:
    """Every target the session's plan (with pre-checks and the drill's setup/teardown) reaches."""
    fence = _Fence(runbook, raw, path, values, defaults_of(raw, values, given, profile), profile, given)
    raw_actions = {at: action for at, _, action in _labelled(raw, plan, scenario)}
    for at, label, action in _labelled(runbook, plan, scenario):
        fence.action(at, label, action, raw_actions.get(at))
    for i, monitor in enumerate(runbook.monitors):  # read at the start and on triage, whatever the plan
        fence.monitor(("monitors", i), monitor)
    unique: dict[tuple[str, str, str, str], Target] = {}
    for target in fence.found:
        unique.setdefault((target.where, target.action, target.kind, target.value), target)
    return list(unique.values())


def refusal(found: list[Target], profile: str) -> str:
    """The message that stops a fenced run, one target a line (empty when nothing leaks)."""
    leaks = [t for t in found if t.status == "production"]
    if not leaks:
        return ""
    head = (
        f"profile {profile!r} is fenced in, but {len(leaks)} target(s) come from the runbook's production "
        f"values, not from the profile or --var (override them, or list them in [profiles.{profile}] shared):"
    )
    return "\n".join([head, *(f"  {t.line()}; fix: {t.fix}" for t in leaks)])


class Refused(SessionError):
    """A fenced run stopped before anything ran, with the targets that come from production."""

    def __init__(self, found: list[Target], profile: str) -> None:
        self.profile = profile
        self.targets = [t for t in found if t.status == "production"]
        super().__init__(refusal(found, profile))


def summary(found: list[Target]) -> dict[str, object]:
    """What the journal keeps: counts, and each shared or production target in full."""
    return {
        "fenced": sum(t.status == "fenced" for t in found),
        "shared": [t.line() for t in found if t.status == "shared"],
        "production": [t.line() for t in found if t.status == "production"],
    }
