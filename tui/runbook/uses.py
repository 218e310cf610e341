"""Which values a part of a runbook uses: the placeholders of its actions, through the vars they name.

A session reads only the secrets its plan needs (a plan for an outage must not be refused for a
token only another plan uses), so this is where "needs" is computed, once, for the engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from tui.runbook.model import NotifyAction, Runbook, Step, WaitAction
from tui.runbook.placeholders import names_in


def _strings(data: object) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, list | tuple):
        for item in data:
            yield from _strings(item)
    elif isinstance(data, dict):
        for key, item in data.items():
            yield str(key)
            yield from _strings(item)


def _env_refs(texts: Iterable[str], runbook: Runbook) -> set[str]:
    """Secrets a command reads from the environment itself (``$TOKEN`` / ``${TOKEN}``)."""
    joined = "\n".join(texts)
    return {
        name
        for name, secret in runbook.secrets.items()
        if secret.env and re.search(rf"\$\{{?{re.escape(secret.env)}(?![A-Za-z0-9_])", joined)
    }


def action_names(action: Step, runbook: Runbook) -> set[str]:
    """Every placeholder name ``action`` substitutes (a notify's template and a wait's polled check
    too), and every secret its command reads from the environment by the secret's variable."""
    texts = list(_strings(action.model_dump(by_alias=True)))
    if isinstance(action, NotifyAction) and action.template is not None:
        template = runbook.template(action.template)
        if template is not None:
            texts.append(template.body)
    if isinstance(action, WaitAction) and action.until is not None:
        check = runbook.check(action.until)
        if check is not None and check is not action:
            texts.extend(_strings(check.model_dump(by_alias=True)))
    named = {action.sign_secret} if isinstance(action, NotifyAction) and action.sign_secret else set()
    return {name for text in texts for name, _ in names_in(text)} | _env_refs(texts, runbook) | named


def var_templates(runbook: Runbook, profile: str | None) -> dict[str, str]:
    templates = {name: str(value) for name, value in runbook.vars.items()}
    if profile is not None and profile in runbook.profiles:
        templates.update({name: str(value) for name, value in runbook.profiles[profile].vars.items()})
    return templates


def closure(names: Iterable[str], templates: Mapping[str, str]) -> set[str]:
    """``names`` and every name the vars among them refer to, transitively."""
    found: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        if name in templates:
            todo.extend(ref for ref, _ in names_in(templates[name]))
    return found


def session_actions(runbook: Runbook, plan: str | None, scenario: str | None) -> list[Step]:
    """What a session may run: the pre-checks, the plan's steps and verifications, the drill's setup/teardown."""
    actions: list[Step] = list(runbook.checks)
    if plan is not None and plan in runbook.plans:
        actions += [*runbook.plans[plan].steps, *runbook.plans[plan].verify]
    drill = runbook.drill(scenario) if scenario else None
    if drill is not None:
        actions += [*drill.setup, *drill.teardown]
    return actions


def secrets_needed(runbook: Runbook, *, plan: str | None, scenario: str | None, profile: str | None) -> set[str]:
    """The secrets a session with this plan (and drill scenario) uses, hosts and ``[ssh]`` included."""
    names: set[str] = set()
    for action in session_actions(runbook, plan, scenario):
        names |= action_names(action, runbook)
    for monitor in runbook.monitors:  # live monitors are read at start, on triage and at the end
        if monitor.live:
            names |= {name for text in _strings(monitor.model_dump()) for name, _ in names_in(text)}
    hosts = dict(runbook.hosts)
    ssh = [runbook.ssh]
    if profile is not None and profile in runbook.profiles:
        hosts.update(runbook.profiles[profile].hosts)
        ssh.append(runbook.profiles[profile].ssh or runbook.ssh)
    for text in _strings([h.model_dump() for h in hosts.values()] + [s.model_dump() for s in ssh]):
        names |= {name for name, _ in names_in(text)}
    return closure(names, var_templates(runbook, profile)) & set(runbook.secrets)
