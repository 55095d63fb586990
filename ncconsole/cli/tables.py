"""How the CLI prints tables: Rich on a terminal, never cut to 80 columns when piped, and
`--format tsv` (one header line, then one line per row, tab-separated) for scripts.

Rich takes 80 columns when stdout is not a terminal, so `ncconsole status | grep` used to
see `REASO`/`N` and hostnames cut mid-word.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Wide enough for any row: a piped table is as wide as its longest cells.
PIPED_WIDTH = 10_000


def stdout_console(**options: Any) -> Console:
    """The terminal's width on a terminal; unlimited (no cutting, no wrapping) when piped."""
    console = Console(**options)
    if console.is_terminal:
        return console
    return Console(width=PIPED_WIDTH, **options)


def tsv_cell(value: object) -> str:
    text = value.plain if isinstance(value, Text) else "" if value is None else str(value)
    return " ".join(text.replace("\t", " ").split())


def print_tsv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """One header line and one line per row; tabs and newlines in values become spaces."""
    click.echo("\t".join(tsv_cell(h) for h in headers))
    for row in rows:
        click.echo("\t".join(tsv_cell(cell) for cell in row))


def table_cells(table: Table) -> tuple[list[str], list[list[object]]]:
    """A Rich table's headers and rows (cells as given to add_row), for print_tsv."""
    headers = [tsv_cell(column.header) for column in table.columns]
    columns = [list(column.cells) for column in table.columns]
    return headers, [list(row) for row in zip(*columns, strict=True)]


def print_lines(console: Console, renderables: Iterable[object]) -> None:
    """Print on `console`; when piped, without the padding after the last cell of a line."""
    if console.is_terminal:
        for renderable in renderables:
            console.print(renderable)
        return
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def print_table(table: Table, output_format: str = "table") -> None:
    """`table` as TSV or on stdout_console(), whichever the format asks for."""
    if output_format == "tsv":
        print_tsv(*table_cells(table))
        return
    print_lines(stdout_console(soft_wrap=False, highlight=False), [table])
