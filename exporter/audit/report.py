"""Builds the report (a JSON-ready dict with the keys in model.KEYS) from the audit's raw query rows."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import TypedDict

from exporter.audit import people
from exporter.audit.findings import findings
from exporter.audit.model import AUDIT_VERSION, KEYS, Options, ratio, share
from exporter.audit.queries import Raw, finite
from exporter.metrics import error_classes

_PREFIX = re.compile(r"^((litellm\.)?\w+(Error|Exception)?:\s*)+")
NO_GROUP = "(none)"  # model_group '' : requests LiteLLM did not route (unknown model, rejected before routing)


class Distribution(TypedDict):
    """The rows of sql/audit/distribution.sql, by section."""

    latency: dict[str | None, dict]  # percentiles per model group (None: all of them)
    curve: list[dict]
    top_spend: list[dict]
    slowest: list[dict]


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _label(group: str) -> str:
    return group or NO_GROUP


def classify(row: dict) -> str:
    return error_classes.classify(row["normalized_error"], row["error_code"], row["error_class"], row["error_hint"])


def _latency(data: dict | None) -> dict:
    d = (data or {}).get("duration") or [None, None, None]
    return {"p50": d[0], "p95": d[1], "p99": d[2], "max": (data or {}).get("max")}


def _ttft(data: dict | None) -> dict:
    t = (data or {}).get("ttft") or [None, None, None]
    return {"requests": (data or {}).get("ttft_n", 0), "p50": t[0], "p95": t[1], "p99": t[2]}


def build(raw: Raw, opts: Options, generated_at: datetime | None = None) -> dict:
    detail = [r for r in raw.cube if r["grouping"] == "detail"]
    for r in detail:
        r["spend"] = finite(r["spend"])
        r["class"] = classify(r) if r["failed"] else None
    latency: dict[str | None, dict] = {}
    sections: dict[str, list[dict]] = {"curve": [], "top_spend": [], "slowest": []}
    for r in raw.distribution:
        if r["section"] == "latency":
            latency[r["model_group"]] = r["data"]
        else:
            sections[r["section"]].append(r["data"])
    dist = Distribution(
        latency=latency, curve=sections["curve"], top_spend=sections["top_spend"], slowest=sections["slowest"]
    )
    requests = sum(r["requests"] for r in detail)
    failures = sum(r["requests"] for r in detail if r["failed"])
    spend = sum(r["spend"] for r in detail)
    inp = sum(r["input_tokens"] for r in detail)
    out = sum(r["output_tokens"] for r in detail)
    errors: Counter[str] = Counter()
    for r in detail:
        if r["failed"]:
            errors[r["class"]] += r["requests"]
    report = {
        "audit_version": AUDIT_VERSION,
        "generated_at": _iso(generated_at or datetime.now(UTC).replace(tzinfo=None)),
        "source": opts.source,
        "window": {
            "start": _iso(raw.start),
            "end": _iso(raw.end),
            "first_request": _iso(raw.first),
            "last_request": _iso(raw.last),
            "hours": round((raw.last - raw.first).total_seconds() / 3600, 3) if raw.first and raw.last else 0,
            "filters": {k: v for k, v in (("key", opts.key), ("team", opts.team), ("model", opts.model)) if v},
        },
        "requests": requests,
        "failures": failures,
        "error_rate": share(failures, requests),
        "errors_by_class": dict(errors.most_common()),
        "models": _models(detail, dist),
        "deployments": _deployments(detail),
        "keys": people.keys(detail, raw),
        "spend_usd": spend,
        "cost_concentration": _concentration(dist, spend, requests, raw),
        "tokens": _tokens(detail, inp, out, opts, raw),
        "latency_seconds": {
            **_latency(dist["latency"].get(None)),
            "slowest": [_request(r, raw) for r in sorted(dist["slowest"], key=lambda d: -(d["duration"] or 0))],
        },
        "ttft_seconds": _ttft(dist["latency"].get(None)),
        "attribution": people.attribution(detail, raw, requests, spend),
        "pricing": people.pricing(detail),
        "budgets": people.budgets(raw, opts),
        "timeline": _timeline(raw),
    }
    report["always_failing_models"] = _always_failing(report, detail, opts)
    report["context_overflow"] = _context(detail, failures)
    report["findings"] = findings(report, opts)
    return {k: report[k] for k in KEYS}


def _errors_of(rows) -> dict:
    c: Counter[str] = Counter()
    for r in rows:
        if r["failed"]:
            c[r["class"]] += r["requests"]
    return dict(c.most_common())


def _models(detail: list[dict], dist: Distribution) -> list[dict]:
    by = defaultdict(list)
    for r in detail:
        by[r["model_group"]].append(r)
    out = []
    for group, rows in by.items():
        req = sum(r["requests"] for r in rows)
        fail = sum(r["requests"] for r in rows if r["failed"])
        inp = sum(r["input_tokens"] for r in rows)
        outp = sum(r["output_tokens"] for r in rows)
        data = dist["latency"].get(group)
        cost = (data or {}).get("cost") or [None, None]
        out.append(
            {
                "model_group": _label(group),
                "models": sorted({r["model"] for r in rows if r["model"]}),
                "providers": sorted({r["provider"] for r in rows if r["provider"]}),
                "requests": req,
                "failures": fail,
                "error_rate": share(fail, req),
                "errors_by_class": _errors_of(rows),
                "spend_usd": sum(r["spend"] for r in rows),
                "input_tokens": inp,
                "output_tokens": outp,
                "input_output_ratio": ratio(inp, outp),
                "latency_seconds": _latency(data),
                "ttft_seconds": _ttft(data),
                "cost_per_request_usd": {
                    "billed_requests": (data or {}).get("billed_n", 0),
                    "p50": cost[0],
                    "p99": cost[1],
                },
            }
        )
    return sorted(out, key=lambda m: (-m["spend_usd"], -m["requests"], m["model_group"]))


def _deployments(detail: list[dict]) -> list[dict]:
    by = defaultdict(list)
    for r in detail:
        by[(r["model_group"], r["model"])].append(r)
    out = []
    for (group, model), rows in by.items():
        req = sum(r["requests"] for r in rows)
        fail = sum(r["requests"] for r in rows if r["failed"])
        out.append(
            {
                "model_group": _label(group),
                "model": model,
                "requests": req,
                "failures": fail,
                "error_rate": share(fail, req),
                "spend_usd": sum(r["spend"] for r in rows),
                "errors_by_class": _errors_of(rows),
            }
        )
    return sorted(out, key=lambda d: (-d["requests"], d["model_group"], d["model"]))


def _dominant(rows: list[dict]) -> tuple[str | None, float | None, str | None]:
    errors = _errors_of(rows)
    if not errors:
        return None, None, None
    cls, n = next(iter(errors.items()))
    sample = min(
        (r["sample_error"] for r in rows if r["failed"] and r["class"] == cls and r["sample_error"]), default=None
    )
    sample = _PREFIX.sub("", (sample or "").split("\n\nLiteLLM: model group")[0]).strip()
    return cls, share(n, sum(errors.values())), sample[:300] or None


def _always_failing(report: dict, detail: list[dict], opts: Options) -> list[dict]:
    """Model groups, then deployments of healthier groups, with >= min_requests and (almost) only failures."""
    out, seen = [], set()
    for level, items in (("model_group", report["models"]), ("model", report["deployments"])):
        for m in items:
            if m["requests"] < opts.min_requests or m["failures"] < m["requests"] * 0.99:
                continue
            group = "" if m["model_group"] == NO_GROUP else m["model_group"]
            rows = [
                r for r in detail if r["model_group"] == group and (level == "model_group" or r["model"] == m["model"])
            ]
            if level == "model" and group in seen:  # its whole group is listed already
                continue
            if level == "model_group":
                seen.add(group)
            cls, dom_share, sample = _dominant(rows)
            models = m.get("models") or [m.get("model")]
            out.append(
                {
                    "level": level,
                    "model_group": m["model_group"],
                    "models": models,
                    "requests": m["requests"],
                    "failures": m["failures"],
                    "error_rate": m["error_rate"],
                    "dominant_error": cls,
                    "dominant_error_share": dom_share,
                    "sample_error": sample,
                    "unrouted": group == "",
                }
            )
    return sorted(out, key=lambda x: (-x["failures"], x["model_group"]))


def _context(detail: list[dict], failures: int) -> dict:
    rows = [r for r in detail if r["failed"] and r["ctx_kind"] is not None]
    kinds: Counter[str] = Counter()
    outputs: Counter[int] = Counter()
    for r in rows:
        kinds[r["ctx_kind"]] += r["requests"]
        if r["ctx_kind"] == "output_budget" and r["ctx_output"] is not None:
            outputs[int(r["ctx_output"])] += r["requests"]
    by_model: defaultdict[str, dict[str, int]] = defaultdict(
        lambda: {"failures": 0, "output_budget_too_large": 0, "prompt_too_long": 0}
    )
    for r in rows:
        m = by_model[_label(r["model_group"])]
        m["failures"] += r["requests"]
        if r["ctx_kind"] == "output_budget":
            m["output_budget_too_large"] += r["requests"]
        elif r["ctx_kind"] == "prompt_too_long":
            m["prompt_too_long"] += r["requests"]
    ob_rows = [r for r in rows if r["ctx_kind"] == "output_budget"]
    total = sum(kinds.values())
    return {
        "failures": total,
        "share_of_failures": share(total, failures),
        "output_budget_too_large": kinds.get("output_budget", 0),
        "prompt_too_long": kinds.get("prompt_too_long", 0),
        "unknown": kinds.get("unknown", 0),
        "largest_requested_output": max(outputs) if outputs else None,
        "most_common_requested_output": outputs.most_common(1)[0][0] if outputs else None,
        "most_common_requested_output_failures": outputs.most_common(1)[0][1] if outputs else 0,
        "max_input_tokens_of_output_budget_failures": max(
            (r["ctx_input_max"] for r in ob_rows if r["ctx_input_max"] is not None), default=None
        ),
        "context_limit": max((r["ctx_limit_max"] for r in rows if r["ctx_limit_max"] is not None), default=None),
        "requested_outputs": [{"output_tokens": o, "failures": n} for o, n in outputs.most_common(10)],
        "by_model": [{"model_group": k, **v} for k, v in sorted(by_model.items(), key=lambda kv: -kv[1]["failures"])],
    }


def _request(d: dict, raw: Raw) -> dict:
    start = d.get("start_time")
    return {
        "request_id": d["request_id"],
        "start_time": start if isinstance(start, str) else _iso(start),
        "model_group": _label(d.get("model_group") or ""),
        "model": d.get("model"),
        "key": raw.key_names.get(d.get("api_key") or "", "(unknown key)" if d.get("api_key") else "(no key)"),
        "input_tokens": d.get("input_tokens"),
        "output_tokens": d.get("output_tokens"),
        "spend_usd": finite(d.get("spend")),
        "duration_seconds": d.get("duration"),
    }


def _concentration(dist: Distribution, spend: float, requests: int, raw: Raw) -> dict:
    curve = sorted(dist["curve"], key=lambda p: p["rank"])
    n = curve[0]["n"] if curve else requests
    total = curve[-1]["cum_spend"] if curve else 0.0
    top = [_request(r, raw) for r in sorted(dist["top_spend"], key=lambda r: -finite(r["spend"]))]
    k1 = max(1, -(-n // 100)) if n else 0
    at = {p["rank"]: p["cum_spend"] for p in curve}  # every rank up to max(--top, 10), then every 0.5%

    def top_share(k: int) -> float | None:  # the k most expensive requests' share, whatever --top is
        return share(at.get(min(k, n), 0.0), total) if n else None

    return {
        "total_spend_usd": spend,
        "top_requests": top,
        "top_2_share": top_share(2),
        "top_10_share": top_share(10),
        "top_1pct_requests": k1,
        "top_1pct_share": top_share(k1) if k1 else None,
        "curve": [[p["rank"] / n, share(p["cum_spend"], total) or 0.0] for p in curve] if n else [],
    }


def _tokens(detail: list[dict], inp: int, out: int, opts: Options, raw: Raw) -> dict:
    def rows_by(key):
        acc: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # input, output tokens, requests
        for r in detail:
            a = acc[key(r)]
            a[0] += r["input_tokens"]
            a[1] += r["output_tokens"]
            a[2] += r["requests"]
        return [
            {
                "name": k,
                "requests": v[2],
                "input_tokens": v[0],
                "output_tokens": v[1],
                "input_output_ratio": ratio(v[0], v[1]),
            }
            for k, v in sorted(acc.items(), key=lambda kv: -kv[1][0])
        ]

    by_model = rows_by(lambda r: _label(r["model_group"]))
    by_key = rows_by(lambda r: raw.key_names.get(r["api_key"], "(unknown key)" if r["api_key"] else "(no key)"))
    flag = lambda x: x["input_output_ratio"] is not None and x["input_output_ratio"] > opts.ratio_threshold
    return {
        "input": inp,
        "output": out,
        "input_output_ratio": ratio(inp, out),
        "threshold": opts.ratio_threshold,
        "by_model": by_model,
        "by_key": by_key,
        "flagged": [{"scope": "model_group", **x} for x in by_model if flag(x)]
        + [{"scope": "key", **x} for x in by_key if flag(x)],
    }


def _timeline(raw: Raw) -> dict:
    series: defaultdict[str, dict[int, dict[str, float]]] = defaultdict(dict)
    for r in raw.cube:
        if r["grouping"] == "timeline":
            series[_label(r["model_group"])][int(r["bucket"])] = {
                "spend_usd": finite(r["spend"]),
                "requests": int(r["requests"]),
            }
    return {
        "bucket_seconds": raw.bucket_seconds,
        "series": {
            g: [
                {"t": datetime.fromtimestamp(b, UTC).isoformat().replace("+00:00", "Z"), **v}
                for b, v in sorted(pts.items())
            ]
            for g, pts in sorted(series.items())
        },
    }
