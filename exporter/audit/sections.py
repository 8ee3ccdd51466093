"""The report as titled sections of sentences and tables, shared by the text, Markdown and HTML renderers."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.audit.model import num, pct, ratio_text, secs, usd

TOP_MODELS = 25


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    title: str = ""
    numeric: tuple[int, ...] = ()  # right-aligned columns


@dataclass
class Section:
    id: str
    title: str
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _lat(d: dict) -> list[str]:
    return [secs(d.get("p50")), secs(d.get("p95")), secs(d.get("p99")), secs(d.get("max"))]


def sections(r: dict) -> list[Section]:
    w = r["window"]
    out = []
    s = Section("summary", "Summary")
    s.lines.append(
        f"Window: {w['first_request'] or '-'} to {w['last_request'] or '-'} ({w['hours']:.1f} h)"
        + (f"; filters: {', '.join(f'{k}={v}' for k, v in w['filters'].items())}" if w["filters"] else "")
    )
    s.lines.append(
        f"Requests: {num(r['requests'])}; failures: {num(r['failures'])} ({pct(r['error_rate'])}); "
        f"spend: {usd(r['spend_usd'])}; tokens: {num(r['tokens']['input'])} in / "
        f"{num(r['tokens']['output'])} out ({ratio_text(r['tokens']['input_output_ratio'])})."
    )
    out.append(s)

    s = Section("findings", "Findings (prioritized actions)")
    if not r["findings"]:
        s.lines.append("Nothing stands out in this window.")
    s.tables.append(
        Table(
            ["#", "action", "impact", "effort", "evidence"],
            [[str(f["priority"]), f["title"], f["impact"], f["effort"], f["summary"]] for f in r["findings"]],
        )
    )
    s.tables.append(Table(["#", "what to do"], [[str(f["priority"]), f["action"]] for f in r["findings"]]))
    out.append(s)

    s = Section("errors", "Failures")
    s.lines.append(f"{num(r['failures'])} of {num(r['requests'])} requests failed ({pct(r['error_rate'])}).")
    s.tables.append(
        Table(
            ["error class", "failures", "share of failures"],
            [[c, num(n), pct(n / r["failures"] if r["failures"] else None)] for c, n in r["errors_by_class"].items()],
            "By error class",
            (1, 2),
        )
    )
    failing_models = sorted((m for m in r["models"] if m["failures"]), key=lambda m: (-m["failures"], m["model_group"]))
    s.tables.append(
        Table(
            ["model group", "failures", "error rate", "error classes"],
            [
                [
                    m["model_group"],
                    num(m["failures"]),
                    pct(m["error_rate"]),
                    ", ".join(f"{c} {num(n)}" for c, n in m["errors_by_class"].items()),
                ]
                for m in failing_models[:TOP_MODELS]
            ],
            "By model",
            (1, 2),
        )
    )
    af = r["always_failing_models"]
    if af:
        s.tables.append(
            Table(
                ["model group", "model(s)", "requests", "failures", "dominant error"],
                [
                    [
                        m["model_group"],
                        ", ".join(m["models"][:3]),
                        num(m["requests"]),
                        num(m["failures"]),
                        f"{m['dominant_error']} ({pct(m['dominant_error_share'], 0)})",
                    ]
                    for m in af
                ],
                "Always failing (at least the minimum requests, ~100% failures)",
                (2, 3),
            )
        )
        s.tables.append(
            Table(["model group", "sample error"], [[m["model_group"], (m["sample_error"] or "")[:200]] for m in af])
        )
    c = r["context_overflow"]
    if c["failures"]:
        s.lines.append(
            f"Context window: {num(c['failures'])} failures; output budget too large "
            f"{num(c['output_budget_too_large'])}, prompt too long {num(c['prompt_too_long'])}, "
            f"unknown {num(c['unknown'])}. Largest requested output: {num(c['largest_requested_output'])} "
            f"tokens (most common {num(c['most_common_requested_output'])}, on "
            f"{num(c['most_common_requested_output_failures'])} requests); inputs of those at most "
            f"{num(c['max_input_tokens_of_output_budget_failures'])} tokens; context limit "
            f"{num(c['context_limit'])}."
        )
    out.append(s)

    s = Section("models", "Models")
    s.tables.append(
        Table(
            ["model group", "req", "fail", "err", "spend", "in:out", "p50", "p95", "p99", "$/req p50", "$/req p99"],
            [
                [
                    m["model_group"],
                    num(m["requests"]),
                    num(m["failures"]),
                    pct(m["error_rate"]),
                    usd(m["spend_usd"]),
                    ratio_text(m["input_output_ratio"]),
                    *_lat(m["latency_seconds"])[:3],
                    usd(m["cost_per_request_usd"]["p50"]),
                    usd(m["cost_per_request_usd"]["p99"]),
                ]
                for m in r["models"][:TOP_MODELS]
            ],
            numeric=tuple(range(1, 11)),
        )
    )
    out.append(s)

    cc = r["cost_concentration"]
    s = Section("cost", "Cost concentration")
    s.lines.append(
        f"Total spend {usd(r['spend_usd'])}. Top 2 requests: {pct(cc['top_2_share'])}; top 10: "
        f"{pct(cc['top_10_share'])}; top 1% ({num(cc['top_1pct_requests'])} requests): "
        f"{pct(cc['top_1pct_share'])}."
    )
    s.tables.append(
        Table(
            ["request id", "model", "key", "input tokens", "output tokens", "spend"],
            [
                [
                    t["request_id"],
                    t["model"] or t["model_group"],
                    t["key"],
                    num(t["input_tokens"]),
                    num(t["output_tokens"]),
                    usd(t["spend_usd"]),
                ]
                for t in cc["top_requests"]
            ],
            "Top requests by spend",
            (3, 4, 5),
        )
    )
    out.append(s)

    tk = r["tokens"]
    s = Section("tokens", "Tokens")
    s.lines.append(
        f"Input {num(tk['input'])}, output {num(tk['output'])}: {ratio_text(tk['input_output_ratio'])} "
        f"(flagged above {tk['threshold']:g}:1)."
    )
    if tk["flagged"]:
        s.tables.append(
            Table(
                ["scope", "name", "requests", "input", "output", "in:out"],
                [
                    [
                        x["scope"],
                        x["name"],
                        num(x["requests"]),
                        num(x["input_tokens"]),
                        num(x["output_tokens"]),
                        ratio_text(x["input_output_ratio"]),
                    ]
                    for x in tk["flagged"][:20]
                ],
                "Above the threshold",
                (2, 3, 4, 5),
            )
        )
    out.append(s)

    lat, tt = r["latency_seconds"], r["ttft_seconds"]
    s = Section("latency", "Latency")
    s.lines.append(
        f"endTime - startTime: p50 {secs(lat['p50'])}, p95 {secs(lat['p95'])}, p99 {secs(lat['p99'])}, "
        f"max {secs(lat['max'])}."
    )
    if tt["requests"]:
        s.lines.append(
            f"Time to first token ({num(tt['requests'])} streamed requests): p50 {secs(tt['p50'])}, "
            f"p95 {secs(tt['p95'])}, p99 {secs(tt['p99'])}."
        )
    s.tables.append(
        Table(
            ["request id", "model", "key", "input tokens", "output tokens", "duration"],
            [
                [
                    t["request_id"],
                    t["model"] or t["model_group"],
                    t["key"],
                    num(t["input_tokens"]),
                    num(t["output_tokens"]),
                    secs(t["duration_seconds"]),
                ]
                for t in lat["slowest"]
            ],
            "Slowest requests",
            (3, 4, 5),
        )
    )
    out.append(s)

    a = r["attribution"]
    s = Section("attribution", "Attribution gaps")
    gaps = [
        ("no end user", a["no_end_user"]),
        ("no reusable session id", a["no_session"]),
        ("no tags (besides User-Agent)", a["no_tags"]),
        ("no team", a["no_team"]),
    ]
    s.tables.append(
        Table(
            ["missing", "requests", "share", "spend", "share of spend"],
            [
                [g, num(v["requests"]), pct(v["share"]), usd(v["spend_usd"]), pct(v["spend_share"])]
                if v
                else [g, "n/a", "n/a", "n/a", "n/a"]
                for g, v in gaps
            ],
            numeric=(1, 2, 3, 4),
        )
    )
    if a["rows_with_session_id"] is not None:
        s.lines.append(
            f"Session ids: {num(a['rows_with_session_id'])} requests carry one, "
            f"{num(a['distinct_session_ids'])} distinct, {num(a['reusable_session_ids'])} used more "
            "than once (LiteLLM writes a fresh random id when the client sends none)."
        )
    s.tables.append(
        Table(
            ["key", "requests", "spend", "no end user", "no session", "no tags", "no team"],
            [
                [
                    k["key"],
                    num(k["requests"]),
                    usd(k["spend_usd"]),
                    pct(k["no_end_user"], 0),
                    pct(k["no_session"], 0),
                    pct(k["no_tags"], 0),
                    pct(k["no_team"], 0),
                ]
                for k in a["by_key"][:20]
            ],
            "Per key",
            tuple(range(1, 7)),
        )
    )
    out.append(s)

    p, b = r["pricing"], r["budgets"]
    s = Section("pricing", "Pricing and budgets")
    s.lines.append(
        f"Paid models logged at $0: {num(p['unpriced_requests'])} requests, {num(p['unpriced_tokens'])} "
        f"tokens" + (f" ({', '.join(m['model'] for m in p['models'][:5])})." if p["models"] else ".")
    )
    s.lines.append(
        f"Budgets above {pct(b['threshold'], 0)} (burn rate over {b['burn_window']['days']:.1f} days): "
        f"{len(b['entities'])}."
    )
    if b["entities"]:
        s.tables.append(
            Table(
                ["kind", "name", "spend", "budget", "used", "burn/day", "runs out"],
                [
                    [
                        e["kind"],
                        e["name"],
                        usd(e["spend_usd"]),
                        usd(e["max_budget_usd"]),
                        pct(e["used"], 0),
                        usd(e["burn_usd_per_day"]),
                        "exhausted" if e["days_left"] == 0 else (e["runs_out_at"] or "no recent spend"),
                    ]
                    for e in b["entities"][:20]
                ],
                numeric=(2, 3, 4, 5),
            )
        )
    out.append(s)
    return out
