"""Executors by kind, imported only when a runbook uses that kind (asyncssh, psycopg, git and
httpx are slow to import and most sessions need only some of them)."""

from __future__ import annotations

import importlib

from tui.executors.base import Executor

_REGISTRY = {
    "ssh": "tui.executors.ssh:SshExecutor",
    "local": "tui.executors.local:LocalExecutor",
    "http": "tui.executors.http:HttpExecutor",
    "sql": "tui.executors.sql:SqlExecutor",
    "git": "tui.executors.git:GitExecutor",
    "manual": "tui.executors.manual:ManualExecutor",
    "notify": "tui.executors.notify:NotifyExecutor",
    "wait": "tui.executors.wait:WaitExecutor",
    "prometheus": "tui.executors.prometheus:PrometheusExecutor",
}


def executor_class(kind: str) -> type[Executor]:
    module, _, name = _REGISTRY[kind].partition(":")
    return getattr(importlib.import_module(module), name)
