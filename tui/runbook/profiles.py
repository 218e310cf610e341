"""A runbook as a profile sees it: the profile's groups, secrets' sources and per-action
connections put in place, so everything downstream reads one runbook and never asks which
environment it is in. (Vars, hosts and ``[ssh]`` are applied where values are resolved.)"""

from __future__ import annotations

import os
from typing import Any

from tui.runbook.model import Drill, Plan, Runbook, Secret, Step


def _action(action: Step, runbook: Runbook, profile: str) -> Step:
    chosen = runbook.profiles[profile]
    fields = set(type(action).model_fields)
    update: dict[str, Any] = {}
    for key in ("dsn_env", "check_dsn_env", "webhook_env"):
        name = getattr(action, key, None)
        if key in fields and name in chosen.env:
            update[key] = chosen.env[name]
    override = chosen.actions.get(action.id)
    if override is not None:
        for field in ("dsn", "check_dsn", "webhook"):
            value, env = getattr(override, field), getattr(override, f"{field}_env")
            if field in fields and (value is not None or env is not None):
                update |= {field: value, f"{field}_env": env}
    return action.model_copy(update=update) if update else action


def _secret(secret: Secret, env: dict[str, str]) -> Secret:
    return secret.model_copy(update={"env": env[secret.env]}) if secret.env in env else secret


def command_env(runbook: Runbook, profile: str | None) -> dict[str, str | None]:
    """What local commands see under ``profile``: each renamed variable with the value of its
    new name (None: unset it, rather than let production's value through)."""
    if profile is None or profile not in runbook.profiles:
        return {}
    return {name: os.environ.get(other) for name, other in runbook.profiles[profile].env.items()}


def with_profile(runbook: Runbook, profile: str | None) -> Runbook:
    """``runbook`` with ``profile``'s groups, secrets and action overrides applied (itself if none)."""
    if profile is None or profile not in runbook.profiles:
        return runbook
    chosen = runbook.profiles[profile]
    if not (chosen.groups or chosen.secrets or chosen.actions or chosen.env):
        return runbook

    def steps(items: list[Step]) -> list[Step]:
        return [_action(item, runbook, profile) for item in items]

    plans: dict[str, Plan] = {
        pid: plan.model_copy(update={"steps": steps(plan.steps), "verify": steps(plan.verify)})
        for pid, plan in runbook.plans.items()
    }
    drills: list[Drill] = [
        d.model_copy(update={"setup": steps(d.setup), "teardown": steps(d.teardown)}) for d in runbook.drills
    ]
    return runbook.model_copy(
        update={
            "groups": {**runbook.groups, **chosen.groups},
            "secrets": {name: _secret(s, chosen.env) for name, s in {**runbook.secrets, **chosen.secrets}.items()},
            "checks": steps(runbook.checks),
            "plans": plans,
            "drills": drills,
        }
    )
