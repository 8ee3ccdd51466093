"""The terminal report: rich tables, plain text when written to a file or a pipe."""

from __future__ import annotations

import io

from rich import box
from rich.console import Console
from rich.table import Table as RichTable

from exporter.audit.sections import sections

WIDTH = 120


def render(report: dict, color: bool = False) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=WIDTH, force_terminal=color, color_system="standard" if color else None,
                      highlight=False, emoji=False)
    console.print(f"[bold]LiteLLM spend audit[/bold]  ({report['source']})")
    for s in sections(report):
        console.print()
        console.rule(f"[bold]{s.title}", align="left", characters="=")
        for line in s.lines:
            console.print(line, markup=False)
        for t in s.tables:
            if not t.rows:
                continue
            table = RichTable(title=t.title or None, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True,
                              show_edge=False)
            for i, h in enumerate(t.headers):
                right = i in t.numeric
                longest = max([len(h)] + [len(row[i]) for row in t.rows])
                table.add_column(h, justify="right" if right else "left", no_wrap=right, overflow="fold",
                                 min_width=min(longest, 34 if i == 0 else 12))
            for row in t.rows:
                table.add_row(*row)
            console.print(table)
    return buf.getvalue()
