"""Inline SVG charts for the HTML report (no scripts, no network): bars, stacked bars, ranges, a curve."""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px;height:auto" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _text(x, y, s, anchor="start", extra="") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>{escape(str(s))}</text>'


def error_rate_bars(models: list[dict], width: int = 560) -> str:
    """One bar per model group: its error rate, labelled failures/requests."""
    rows = sorted(models, key=lambda m: -m["requests"])[:15]
    label_w, bar_w, h = 190, width - 190 - 110, 22
    body = [_text(label_w, 14, "error rate (failures / requests)", extra='fill="#555"')]
    for i, m in enumerate(rows):
        y = 24 + i * h
        rate = m["error_rate"] or 0.0
        color = "#e15759" if rate >= 0.99 else "#f28e2b" if rate >= 0.2 else "#4e79a7"
        body.append(_text(label_w - 6, y + 14, m["model_group"][:28], "end"))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{h - 6}" fill="#eef0f3"/>')
        body.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{max(rate * bar_w, 1):.1f}" height="{h - 6}" fill="{color}"/>'
        )
        body.append(_text(label_w + bar_w + 6, y + 14, f"{rate * 100:.1f}% ({m['failures']}/{m['requests']})"))
    return _svg(width, 30 + len(rows) * h, body, "Error rate by model group")


def spend_over_time(timeline: dict, width: int = 560, height: int = 260) -> str:
    """Stacked bars of spend per time bucket, the top model groups by spend and the rest as 'other'."""
    series = timeline["series"]
    totals = sorted(series, key=lambda g: -sum(p["spend_usd"] for p in series[g]))
    top, rest = totals[:6], totals[6:]
    buckets = sorted({p["t"] for pts in series.values() for p in pts})
    if not buckets:
        return _svg(width, 40, [_text(10, 24, "no spend in this window")], "Spend by model over time")
    stacks: dict[str, list[tuple[str, float]]] = {b: [] for b in buckets}
    for i, g in enumerate(top + (["other"] if rest else [])):
        names = [g] if g != "other" else rest
        per: dict[str, float] = {}
        for n in names:
            for p in series[n]:
                per[p["t"]] = per.get(p["t"], 0.0) + p["spend_usd"]
        for b in buckets:
            stacks[b].append((PALETTE[i % len(PALETTE)], per.get(b, 0.0)))
    peak = max(sum(v for _, v in s) for s in stacks.values()) or 1.0
    left, bottom, top_pad = 60, 30, 10
    pw, ph = width - left - 10, height - bottom - top_pad
    bw = pw / len(buckets)
    body = [
        f'<line x1="{left}" y1="{top_pad + ph}" x2="{left + pw}" y2="{top_pad + ph}" stroke="#999"/>',
        _text(left - 4, top_pad + 10, f"${peak:,.2f}", "end"),
        _text(left - 4, top_pad + ph, "$0", "end"),
    ]
    for j, b in enumerate(buckets):
        y: float = top_pad + ph
        for color, v in stacks[b]:
            hgt = v / peak * ph
            if hgt > 0:
                body.append(
                    f'<rect x="{left + j * bw + 0.5:.1f}" y="{y - hgt:.1f}" width="{max(bw - 1, 0.5):.1f}" '
                    f'height="{hgt:.1f}" fill="{color}"/>'
                )
            y -= hgt
    body.append(_text(left, height - 12, buckets[0][:16].replace("T", " ")))
    body.append(_text(left + pw, height - 12, buckets[-1][:16].replace("T", " "), "end"))
    names = top + (["other"] if rest else [])
    for i, g in enumerate(names):  # legend: two columns under the chart
        x, y = 10 + (i % 2) * (width // 2), height + 6 + (i // 2) * 16
        body.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(_text(x + 14, y + 9, g[:40]))
    return _svg(width, height + 12 + 16 * ((len(names) + 1) // 2), body, "Spend by model group over time")


def latency_ranges(models: list[dict], overall: dict, width: int = 560) -> str:
    """Per model group, on a log scale: a bar from p50 to p99, ticks at p95 and max."""
    rows = [("all requests", overall)] + [
        (m["model_group"], m["latency_seconds"]) for m in sorted(models, key=lambda m: -m["requests"])[:14]
    ]
    rows = [(n, d) for n, d in rows if d.get("p50") is not None]
    vals = [v for _, d in rows for v in (d["p50"], d["max"]) if v and v > 0]
    if not vals:
        return _svg(width, 40, [_text(10, 24, "no latency data")], "Latency distribution")
    lo, hi = math.log10(max(min(vals), 1e-3)), math.log10(max(vals))
    hi = hi if hi > lo else lo + 1
    label_w, h, pw = 190, 22, width - 190 - 20

    def x(v):
        return label_w + (math.log10(max(v, 10**lo)) - lo) / (hi - lo) * pw

    body = [_text(label_w, 14, "seconds (log): bar p50 to p99, | p95, o max", extra='fill="#555"')]
    for i, (name, d) in enumerate(rows):
        y = 24 + i * h + h / 2
        body.append(_text(label_w - 6, y + 4, name[:28], "end"))
        body.append(f'<line x1="{label_w}" y1="{y}" x2="{label_w + pw}" y2="{y}" stroke="#eef0f3" stroke-width="12"/>')
        body.append(
            f'<line x1="{x(d["p50"]):.1f}" y1="{y}" x2="{x(d["p99"] or d["p50"]):.1f}" y2="{y}" '
            f'stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="10"/>'
        )
        if d.get("p95"):
            body.append(
                f'<line x1="{x(d["p95"]):.1f}" y1="{y - 7}" x2="{x(d["p95"]):.1f}" y2="{y + 7}" stroke="#222"/>'
            )
        if d.get("max"):
            body.append(f'<circle cx="{x(d["max"]):.1f}" cy="{y}" r="3.5" fill="none" stroke="#222"/>')
    n = len(rows)
    for k in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= k <= hi:
            body.append(_text(x(10**k), 28 + n * h, f"{10**k:g}s", "middle", 'fill="#555"'))
    return _svg(width, 36 + n * h, body, "Latency distribution by model group")


def concentration_curve(
    curve: list[list[float]], marker: tuple[float, float] | None = None, width: int = 560, height: int = 280
) -> str:
    """Cumulative share of spend against the share of requests, most expensive first."""
    left, bottom, pad = 50, 36, 12
    pw, ph = width - left - pad, height - bottom - pad
    pts = [(0.0, 0.0)] + [(float(a), float(b)) for a, b in curve]
    line = " ".join(f"{left + a * pw:.1f},{pad + ph - b * ph:.1f}" for a, b in pts)
    body = [
        f'<rect x="{left}" y="{pad}" width="{pw}" height="{ph}" fill="#fafbfc" stroke="#ccc"/>',
        f'<line x1="{left}" y1="{pad + ph}" x2="{left + pw}" y2="{pad}" stroke="#bbb" stroke-dasharray="4 3"/>',
        f'<polyline points="{line}" fill="none" stroke="#e15759" stroke-width="2.5"/>',
        _text(left + pw / 2, height - 8, "share of requests (most expensive first)", "middle"),
        _text(left - 6, pad + 10, "100%", "end"),
        _text(left - 6, pad + ph, "0%", "end"),
        _text(left + pw, pad + ph + 14, "100%", "end"),
    ]
    if marker and marker[1] is not None:
        a, b = marker
        body.append(f'<circle cx="{left + a * pw:.1f}" cy="{pad + ph - b * ph:.1f}" r="4" fill="#e15759"/>')
        body.append(_text(left + a * pw + 8, pad + ph - b * ph + 14, f"top 1% of requests: {b * 100:.1f}% of spend"))
    return _svg(width, height, body, "Cost concentration curve")
