"""The terminal report: rich tables, plain text when written to a file or a pipe."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from exporter.audit.sections import sections

WIDTH = 120
GAP = 2  # between two columns (the cell padding of box.SIMPLE_HEAD)


def widths(t) -> list[int]:
    """Column widths that fit WIDTH: numbers and headers are never cut (rich would crop a no_wrap column, even the
    last one); the widest text column folds first, down to 12 characters (34 for the first column)."""
    natural = [max([len(h)] + [len(row[i]) for row in t.rows]) for i, h in enumerate(t.headers)]
    floor = [
        n if i in t.numeric else min(n, max(len(t.headers[i]), 34 if i == 0 else 12)) for i, n in enumerate(natural)
    ]
    out = list(natural)
    budget = WIDTH - GAP * (len(out) - 1)
    while sum(out) > budget:
        wide = [i for i in range(len(out)) if out[i] > floor[i]]
        if not wide:
            break
        out[max(wide, key=lambda i: out[i])] -= 1
    return out


def render(report: dict, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=WIDTH,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
    )
    console.print(f"[bold]LiteLLM spend audit[/bold]  ({report['source']})")
    for s in sections(report):
        console.print()
        console.rule(f"[bold]{s.title}", align="left", characters="=")
        for line in s.lines:
            console.print(line, markup=False)
        for t in s.tables:
            if not t.rows:
                continue
            table = RichTable(
                title=t.title or None,
                title_justify="left",
                box=box.SIMPLE_HEAD,
                pad_edge=False,
                padding=(0, 1),
                collapse_padding=True,
                show_edge=False,
            )
            for i, (h, width) in enumerate(zip(t.headers, widths(t))):
                right = i in t.numeric
                table.add_column(h, justify="right" if right else "left", no_wrap=right, overflow="fold", width=width)
            for row in t.rows:
                table.add_row(*row)
            console.print(table)
    return buf.getvalue()
