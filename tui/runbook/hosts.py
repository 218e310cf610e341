"""Where an ssh step acts: the names it gives, the hosts it fans out to, and the session's host
and ssh settings with their placeholders filled in. The plan screen, the engine, the fence and the
ssh executor all ask here, so they cannot disagree about a step's hosts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tui.runbook.model import Host, Runbook, SshAction, SshSettings
from tui.runbook.placeholders import Value, render_text


def named(action: SshAction) -> tuple[str, ...]:
    """The host, hosts or group the step names, as the runbook writes them."""
    if action.group:
        return (action.group,)
    return tuple(action.hosts) or ((action.host,) if action.host else ())


def fan_out(action: SshAction, runbook: Runbook) -> list[str]:
    """The hosts the step runs on, in order. ``runbook`` is the session's (with its profile
    applied), so a profile's ``groups`` are the ones used."""
    if action.group:
        return runbook.group_hosts(action.group)
    return list(named(action))


def render_hosts(hosts: Mapping[str, Host], scope: Mapping[str, Value]) -> dict[str, Host]:
    """``hosts`` with placeholders in address, user and jump filled in. Raises RenderError."""
    return {
        name: host.model_copy(
            update={
                "address": render_text(host.address, scope),
                "user": render_text(host.user, scope) if host.user else host.user,
                "jump": render_text(host.jump, scope) if host.jump else host.jump,
            }
        )
        for name, host in hosts.items()
    }


def render_ssh(
    ssh: SshSettings,
    scope: Mapping[str, Value],
    *,
    config: str | None = None,
    known_hosts: str | None = None,
) -> SshSettings:
    """``ssh`` with the session's ``config`` / ``known_hosts`` (when given) in place of its own,
    and placeholders and ``~`` in its paths filled in. Raises RenderError."""
    paths = {"config": config or ssh.config, "known_hosts": known_hosts or ssh.known_hosts, "identity": ssh.identity}
    return ssh.model_copy(
        update={key: str(Path(render_text(path, scope)).expanduser()) if path else path for key, path in paths.items()}
    )
