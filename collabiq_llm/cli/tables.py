"""Tables that fit the terminal: secondary columns are dropped before essential ones are cut.

Rich squeezes every column when a table is too wide (``gemini…`` loses the primary
marker, a retry time is cut). Instead each column has a rank: the essential ones
always stay, the others are added most useful first while the table still fits,
and the one *flexible* column (the last error) takes what is left and is cut last,
with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

GAP = 2  # cells between two columns of compact_table (padding 1 on each side)


@dataclass
class Column:
    header: str
    cells: list[object] = field(default_factory=list)  # str (markup) or rich Text
    rank: int = 0  # 0 = essential; then 1, 2, ... dropped from the highest rank first
    flexible: bool = False  # takes the remaining width; cut (or folded) last
    min_width: int = 16
    justify: Literal["left", "right"] = "left"


def cell_width(cell: object) -> int:
    """Terminal cells a value takes (Korean is two per character); markup is not counted."""
    from rich.cells import cell_len
    from rich.text import Text

    if isinstance(cell, Text):
        return cell.cell_len
    return cell_len(Text.from_markup(str(cell)).plain)


def natural_width(col: Column) -> int:
    return max([cell_width(col.header), *(cell_width(c) for c in col.cells)])


def choose_columns(columns: Sequence[Column], width: int) -> list[Column]:
    """The columns to show at ``width``, in their original order (pure; tested directly)."""
    keep = [c for c in columns if c.rank == 0]

    def needed(cols: list[Column]) -> int:
        total = sum(c.min_width if c.flexible else natural_width(c) for c in cols)
        return total + GAP * (len(cols) - 1)

    for col in sorted((c for c in columns if c.rank > 0), key=lambda c: c.rank):
        if needed([*keep, col]) <= width:
            keep.append(col)
    return [c for c in columns if c in keep]


def fitted_table(title: str, columns: Sequence[Column], width: int, *, fold: bool = False):
    """A compact table with the columns that fit ``width`` (see :func:`choose_columns`)."""
    from collabiq_llm.cli.output import compact_table

    shown = choose_columns(columns, width)
    table = compact_table(title)
    for col in shown:
        if col.flexible:
            # wrapable, so Rich narrows this column first; one-line cells are Text(no_wrap)
            table.add_column(
                col.header, min_width=col.min_width, overflow="fold" if fold else "ellipsis"
            )
        else:
            table.add_column(col.header, no_wrap=True, justify=col.justify)
    rows = len(columns[0].cells) if columns else 0
    for i in range(rows):
        table.add_row(*(col.cells[i] for col in shown))  # type: ignore[arg-type]
    return table
