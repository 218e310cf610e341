"""Share a table's width between its long columns, so none is pushed off the right edge.

A DataTable sizes every column to its widest cell: one long (CJK) check title pushed the Target and
Detail columns off an 80-column screen. :func:`share` gives each flexible column its natural width
when they all fit, else a share of what the fixed columns leave (a floor each, the rest by weight).
:func:`set_widths` rebuilds the table's columns with those widths (cells longer than their column
end in "…"), keeping its rows and cursor.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

PADDING = 2  # a DataTable cell's padding, both sides


def share(room: int, natural: dict[str, int], weights: dict[str, float], floor: int = 8) -> dict[str, int | None]:
    """Widths for the flexible columns in ``room`` cells (None: its natural width fits)."""
    if sum(natural.values()) <= room:
        return dict.fromkeys(natural)
    widths = {key: min(natural[key], floor) for key in natural}
    left = room - sum(widths.values())
    # Hand out the rest by weight, a column never wider than it needs; repeat while some stay short.
    for _ in range(len(natural)):
        hungry = {k: w for k, w in weights.items() if k in natural and widths[k] < natural[k]}
        if left <= 0 or not hungry:
            break
        total = sum(hungry.values())
        given = 0
        for key, weight in hungry.items():
            extra = min(int(left * weight / total), natural[key] - widths[key])
            widths[key] += extra
            given += extra
        if given == 0:
            key = next(iter(hungry))
            widths[key] += 1
            given = 1
        left -= given
    return dict(widths)


def cell_width(value: object) -> int:
    return value.cell_len if isinstance(value, Text) else cell_len(str(value))


def set_widths(table: DataTable[Any], widths: dict[str, int | None]) -> None:
    """Re-add ``table``'s columns with ``widths`` (by column key) and its rows as they are."""
    keys = [str(key.value) for key in table.columns]
    labels = [column.label for column in table.columns.values()]
    rows = [(str(row.value), table.get_row(row)) for row in table.rows]
    cursor = table.cursor_row
    table.clear(columns=True)
    for key, label in zip(keys, labels, strict=True):
        table.add_column(label, key=key, width=widths.get(key))
    for row_key, values in rows:
        table.add_row(*values, key=row_key)
    if rows and cursor >= 0:
        table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)


def fit(table: DataTable[Any], weights: dict[str, float], room: int | None = None) -> None:
    """Give the ``weights`` columns of ``table`` what its other columns leave of its width."""
    room = table.scrollable_content_region.width if room is None else room
    if room <= 0 or not table.columns:
        return
    natural: dict[str, int] = {}
    fixed = 0
    for key, column in table.columns.items():
        cells = [cell_width(table.get_cell(row, key)) for row in table.rows]
        width = max([cell_width(column.label), *cells])
        if str(key.value) in weights:
            natural[str(key.value)] = width
        else:
            fixed += width
    fixed += PADDING * len(table.columns)
    widths = share(room - fixed - 1, natural, weights)
    current = {str(k.value): (None if c.auto_width else c.width) for k, c in table.columns.items()}
    if any(current.get(key) != width for key, width in widths.items()):
        set_widths(table, widths)


def literal(value: object) -> object:
    """A cell as written: a DataTable reads a str cell as markup, so a runbook's "[docker]" would
    vanish and a stray "[/x]" would crash the console."""
    return Text(value) if isinstance(value, str) else value


class LiteralTable(DataTable[Any]):
    """A DataTable whose str cells are shown as written, never read as markup."""

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(literal(cell) for cell in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, literal(value), **kwargs)


class FitTable(LiteralTable):
    """A table whose ``weights`` columns share its width whenever it changes size."""

    def __init__(self, weights: dict[str, float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weights = weights

    def fit(self) -> None:
        fit(self, self.weights)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self.fit)
