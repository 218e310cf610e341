"""Executors by kind, imported only when a runbook uses that kind (asyncssh, psycopg, git and
httpx are slow to import and most sessions need only some of them)."""

from __future__ import annotations

import importlib

from tui.executors.base import Executor
from tui.runbook.kinds import step_kind


def executor_class(kind: str) -> type[Executor]:
    module, _, name = step_kind(kind).executor.partition(":")
    return getattr(importlib.import_module(module), name)
