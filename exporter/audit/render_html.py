"""The HTML report: one self-contained file (inline CSS and SVG charts, no scripts, no network)."""

from __future__ import annotations

from html import escape

from exporter.audit import charts
from exporter.audit.sections import sections

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1160px;color:#1d2330;
padding:0 16px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:2px solid #e4e7ec;
padding-bottom:4px}table{border-collapse:collapse;margin:8px 0 14px;width:100%;font-size:13px}th,td{padding:4px 8px;
border-bottom:1px solid #e8eaee;text-align:left;vertical-align:top;overflow-wrap:break-word}
td:last-child{overflow-wrap:anywhere}th{background:#f4f6f9}td.n,th.n{text-align:right;white-space:nowrap}
.meta{color:#5b6473}.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px 24px}
figure{margin:0;padding:10px;border:1px solid #e4e7ec;border-radius:6px;background:#fff}figcaption{font-weight:600;
margin-bottom:6px}.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}.kpi{background:#f4f6f9;border-radius:6px;
padding:8px 14px}.kpi b{display:block;font-size:20px}.high{color:#b3261e;font-weight:600}.medium{color:#a15c00}
"""


def _table(t) -> str:
    head = "".join(f'<th class="{"n" if i in t.numeric else ""}">{escape(h)}</th>' for i, h in enumerate(t.headers))
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i in t.numeric else ""}{" " + c if t.headers[i] == "impact" else ""}">{escape(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in t.rows
    )
    title = f"<h3>{escape(t.title)}</h3>" if t.title else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _kpis(r: dict) -> str:
    items = [
        ("requests", f"{r['requests']:,}"),
        ("error rate", f"{(r['error_rate'] or 0) * 100:.1f}%"),
        ("spend", f"${r['spend_usd']:,.4f}"),
        ("in:out tokens", f"{r['tokens']['input_output_ratio'] or 0:.0f}:1"),
        ("p99 latency", f"{r['latency_seconds']['p99'] or 0:.1f} s"),
        ("findings", str(len(r["findings"]))),
    ]
    return (
        '<div class="kpis">'
        + "".join(f'<div class="kpi"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in items)
        + "</div>"
    )


def _marker(r: dict) -> tuple[float, float] | None:
    cc = r["cost_concentration"]
    return (cc["top_1pct_requests"] / r["requests"], cc["top_1pct_share"]) if r["requests"] else None


def render(report: dict) -> str:
    cc = report["cost_concentration"]
    figs = [
        ("Error rate by model group", charts.error_rate_bars(report["models"])),
        ("Spend by model group over time", charts.spend_over_time(report["timeline"])),
        ("Latency distribution", charts.latency_ranges(report["models"], report["latency_seconds"])),
        ("Cost concentration", charts.concentration_curve(cc["curve"], _marker(report))),
    ]
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>LiteLLM spend audit</title><style>{CSS}</style></head><body>",
        "<h1>LiteLLM spend audit</h1>",
        f'<div class="meta">{escape(report["source"])} &middot; generated {escape(report["generated_at"])}</div>',
        _kpis(report),
        '<div class="grid">'
        + "".join(f"<figure><figcaption>{escape(t)}</figcaption>{svg}</figure>" for t, svg in figs)
        + "</div>",
    ]
    for s in sections(report):
        parts.append(f'<h2 id="{s.id}">{escape(s.title)}</h2>')
        parts += [f"<p>{escape(line)}</p>" for line in s.lines]
        parts += [_table(t) for t in s.tables if t.rows]
    parts.append("</body></html>\n")
    return "\n".join(parts)
