"""A runbook's tables as Rich tables: severity, decision matrix, plans, contacts (overview and contacts screens)."""

from __future__ import annotations

from rich.table import Table

from tui.runbook.model import Runbook
from tui.widgets.columns import literal


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", expand=False, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _add(table: Table, *cells: str) -> None:
    """A row as written (Rich, like a DataTable, reads a str cell as markup)."""
    table.add_row(*(literal(cell) for cell in cells))


def severity_table(rb: Runbook) -> Table:
    table = _table("Severity", "Level", "Name", "Conditions", "Action", "Decider", "Within", "Plan")
    for s in rb.severity:
        _add(table, s.level, s.name, "\n".join(s.conditions), s.action, s.decider, s.respond_within, s.plan or "")
    return table


def matrix_table(rb: Runbook) -> Table:
    table = _table("Decision matrix", "Level", "Scope / situation", "Strategy", "Within", "Owner", "Plan")
    for row in rb.matrix:
        _add(table, row.level, row.scope or row.situation, row.strategy, row.within, row.owner, row.plan or "")
    return table


def plans_table(rb: Runbook) -> Table:
    table = _table("Plans", "Plan", "Title", "When", "Target", "Steps")
    for plan_id, plan in rb.plans.items():
        target = f"{plan.target_minutes:g} min" if plan.target_minutes else ""
        _add(table, plan_id, plan.title, "\n".join(plan.when), target, str(len(plan.steps)))
    return table


CALL_WHEN = {"failed": "a step fails", "overdue": "plan overdue"}


def contacts_table(rb: Runbook) -> Table:
    """Who to call, in escalation order (those with an order first), with how to reach them and
    when the console will say to call them. Columns nobody fills are left out, so the table fits."""
    ranked = sorted(rb.contacts, key=lambda c: c.order if c.order is not None else 1_000_000)
    columns = {
        "#": lambda c: str(c.order) if c.order is not None else "",
        "Role": lambda c: c.role,
        "Name": lambda c: c.name,
        "Phone": lambda c: c.phone,
        "Chat": lambda c: c.chat,
        "Email": lambda c: c.email,
        "Duty": lambda c: c.duty,
        "Call when": lambda c: ", ".join(CALL_WHEN[reason] for reason in c.escalate),
    }
    shown = {name: cell for name, cell in columns.items() if name == "Role" or any(cell(c) for c in ranked)}
    table = _table("Contacts", *shown)
    for contact in ranked:
        _add(table, *(cell(contact) for cell in shown.values()))
    return table
