"""The prioritized action list: each finding with its impact, effort, evidence numbers and what to do."""

from __future__ import annotations

from exporter.audit.model import Options, num, pct, ratio_text, secs, share, usd

IMPACT = {"high": 3, "medium": 2, "low": 1}
EFFORT = {"low": 1, "medium": 2, "high": 3}
ORDER = (
    "context_output_budget",
    "always_failing",
    "budgets",
    "attribution",
    "pricing",
    "context_prompt",
    "cost_concentration",
    "token_ratio",
    "latency_tail",
    "error_class",
)
CONTEXT = "400_CONTEXT_WINDOW_EXCEEDED"


def _impact(affected_share: float | None) -> str:
    s = affected_share or 0.0
    return "high" if s >= 0.10 else "medium" if s >= 0.02 else "low"


def _f(fid: str, title: str, impact: str, effort: str, action: str, evidence: dict, text: str) -> dict:
    return {
        "id": fid,
        "title": title,
        "impact": impact,
        "effort": effort,
        "action": action,
        "evidence": evidence,
        "summary": text,
    }


def findings(r: dict, opts: Options) -> list[dict]:
    out = []
    req = r["requests"]
    ctx = r["context_overflow"]
    if ctx["output_budget_too_large"]:
        n = ctx["output_budget_too_large"]
        out.append(
            _f(
                "context_output_budget",
                "Cap max_tokens server-side",
                _impact(share(n, req)),
                "low",
                "Clamp the requested output budget to the model's limit (e.g. min(requested, context - input, "
                "8192)) in the client or with LiteLLM's max_tokens settings; the provider rejects these "
                "requests before any inference.",
                {
                    "failures": n,
                    "share_of_requests": share(n, req),
                    "share_of_failures": share(n, r["failures"]),
                    "largest_requested_output": ctx["largest_requested_output"],
                    "most_common_requested_output": ctx["most_common_requested_output"],
                    "max_input_tokens": ctx["max_input_tokens_of_output_budget_failures"],
                    "context_limit": ctx["context_limit"],
                },
                f"{num(n)} context-window failures ({pct(share(n, req))} of requests) asked for up to "
                f"{num(ctx['largest_requested_output'])} output tokens on prompts of at most "
                f"{num(ctx['max_input_tokens_of_output_budget_failures'])} tokens: the output budget, not the "
                "prompt, overflows the context.",
            )
        )
    if ctx["prompt_too_long"]:
        n = ctx["prompt_too_long"]
        out.append(
            _f(
                "context_prompt",
                "Trim prompts that overflow the context window",
                _impact(share(n, req)),
                "medium",
                "Truncate history / retrieved context to a token budget below the model's window, "
                "or route long prompts to a long-context model.",
                {"failures": n, "share_of_requests": share(n, req)},
                f"{num(n)} requests failed because the prompt alone exceeded the context window.",
            )
        )
    failing = r["always_failing_models"]
    if failing:
        non_ctx = sum(m["failures"] for m in failing if m["dominant_error"] != CONTEXT)
        names = ", ".join(
            f"{m['model_group'] if m['level'] == 'model_group' else m['models'][0]} "
            f"({m['failures']}/{m['requests']}, {m['dominant_error']})"
            for m in failing[:6]
        )
        out.append(
            _f(
                "always_failing",
                "Fix or remove models that always fail",
                _impact(share(non_ctx, req)) if non_ctx else "low",
                "low",
                "Validate model names against the provider's catalog at startup (or in CI) and drop the "
                "failing deployments from the router until they work.",
                {
                    "models": [
                        {
                            k: m[k]
                            for k in (
                                "level",
                                "model_group",
                                "models",
                                "requests",
                                "failures",
                                "dominant_error",
                                "sample_error",
                            )
                        }
                        for m in failing
                    ],
                    "failures": sum(m["failures"] for m in failing),
                    "share_of_requests": share(sum(m["failures"] for m in failing), req),
                },
                f"{len(failing)} model(s) failed on every request: {names}.",
            )
        )
    out += _budget_findings(r)
    att = r["attribution"]
    gaps = {
        g: att[g]["share"]
        for g in ("no_end_user", "no_session", "no_tags", "no_team")
        if att.get(g) and (att[g]["share"] or 0) >= 0.5
    }
    if gaps and req:
        out.append(
            _f(
                "attribution",
                "Send end user, session id and tags on every request",
                "medium",
                "low",
                "Pass `user` (or x-litellm-end-user-id), `litellm_session_id` / metadata.session_id and "
                "metadata.tags from the application; give every key a team. They cost nothing and make cost "
                "and errors attributable.",
                {g: att[g] for g in gaps},
                "Requests without: "
                + ", ".join(f"{g.removeprefix('no_').replace('_', ' ')} {pct(s)}" for g, s in gaps.items())
                + ".",
            )
        )
    pr = r["pricing"]
    if pr["unpriced_requests"]:
        never = [m["model"] for m in pr["models"] if m["never_priced"]]
        out.append(
            _f(
                "pricing",
                "Fix model pricing: paid models logged at $0",
                _impact(share(pr["unpriced_requests"], req)),
                "low",
                "Add or correct the model's cost in LiteLLM's model_info (input_cost_per_token, "
                "output_cost_per_token) so spend and budgets count these requests.",
                {
                    "requests": pr["unpriced_requests"],
                    "tokens": pr["unpriced_tokens"],
                    "models": [m["model"] for m in pr["models"]],
                    "never_priced": never,
                },
                f"{num(pr['unpriced_requests'])} successful requests with {num(pr['unpriced_tokens'])} tokens "
                f"cost $0 on models that are not free: {', '.join(m['model'] for m in pr['models'][:5])}"
                + (f" ({len(never)} never priced at all)." if never else "."),
            )
        )
    cc = r["cost_concentration"]
    if cc["top_requests"] and (cc["top_10_share"] or 0) >= 0.3:
        top = cc["top_requests"][0]
        out.append(
            _f(
                "cost_concentration",
                "Cap input tokens on expensive models",
                "high" if (cc["top_10_share"] or 0) >= 0.5 else "medium",
                "medium",
                "Give each route a hard input-token ceiling well below the context window (truncate "
                "retrieval and history), and alert on single requests above a cost threshold.",
                {
                    "total_spend_usd": r["spend_usd"],
                    "top_2_share": cc["top_2_share"],
                    "top_10_share": cc["top_10_share"],
                    "top_1pct_share": cc["top_1pct_share"],
                    "top_request": top,
                },
                f"The top 2 requests hold {pct(cc['top_2_share'])} and the top 10 {pct(cc['top_10_share'])} of "
                f"{usd(r['spend_usd'])}; the largest, {top['request_id']} on {top['model'] or top['model_group']}, "
                f"cost {usd(top['spend_usd'])} for {num(top['input_tokens'])} input tokens.",
            )
        )
    tk = r["tokens"]
    if tk["input_output_ratio"] and tk["input_output_ratio"] > opts.ratio_threshold:
        out.append(
            _f(
                "token_ratio",
                "Budget input tokens per request",
                "medium",
                "medium",
                "Deduplicate retrieved context across turns and cap the prompt size; track the input/output "
                f"ratio per route and alert above {opts.ratio_threshold:g}:1.",
                {
                    "input_tokens": tk["input"],
                    "output_tokens": tk["output"],
                    "ratio": tk["input_output_ratio"],
                    "flagged": [{k: x[k] for k in ("scope", "name", "input_output_ratio")} for x in tk["flagged"][:10]],
                },
                f"{num(tk['input'])} input vs {num(tk['output'])} output tokens "
                f"({ratio_text(tk['input_output_ratio'])}, threshold {opts.ratio_threshold:g}:1).",
            )
        )
    lat = r["latency_seconds"]
    if lat["p50"] and lat["p99"] and (lat["p99"] / lat["p50"] >= 10 or (lat["max"] or 0) >= 120):
        slow = lat["slowest"][0] if lat["slowest"] else None
        out.append(
            _f(
                "latency_tail",
                "Per-model timeouts and hedging",
                "medium",
                "medium",
                "Set per-model request timeouts (free tiers far below the default 600 s), hedge to another "
                "deployment after ~2x p50, and cap retries per request.",
                {"p50": lat["p50"], "p95": lat["p95"], "p99": lat["p99"], "max": lat["max"], "slowest": slow},
                f"p50 {secs(lat['p50'])}, p95 {secs(lat['p95'])}, p99 {secs(lat['p99'])} "
                f"({lat['p99'] / lat['p50']:.0f}x the median), max {secs(lat['max'])}"
                + (
                    f" ({slow['model'] or slow['model_group']}, {num(slow['input_tokens'])} in / "
                    f"{num(slow['output_tokens'])} out)."
                    if slow
                    else "."
                ),
            )
        )
    explained = {CONTEXT} | {m["dominant_error"] for m in failing}
    for cls, n in r["errors_by_class"].items():
        cls_share = share(n, req)
        if cls not in explained and cls_share and cls_share >= 0.02:
            out.append(
                _f(
                    "error_class",
                    f"Reduce {cls} failures",
                    _impact(cls_share),
                    "medium",
                    _ERROR_ACTIONS.get(cls.split("_", 1)[0], "Look at the sample errors per model and key."),
                    {"error_class": cls, "failures": n, "share_of_requests": cls_share},
                    f"{num(n)} requests ({pct(cls_share)}) failed with {cls}.",
                )
            )
    for f in out:
        f["score"] = IMPACT[f["impact"]] / EFFORT[f["effort"]]
    out.sort(key=lambda f: (-f["score"], ORDER.index(f["id"])))
    for i, f in enumerate(out, 1):
        f["priority"] = i
    return out


_ERROR_ACTIONS = {
    "429": "Respect rate limits: spread load across deployments, add retries with backoff, raise rpm/tpm limits.",
    "401": "Rotate or fix the API keys clients send; remove callers of deleted or blocked keys.",
    "403": "Align key model access lists with what clients request.",
    "500": "Check provider health and fallbacks for the affected deployments.",
    "503": "Add fallbacks to another provider for overloaded deployments.",
    "408": "Lower timeouts and add fallbacks for slow deployments.",
}


def _budget_findings(r: dict) -> list[dict]:
    """Budgets exhausted, or running out within a week at the burn rate before LiteLLM resets them (a budget that
    resets first is not about to stop anyone)."""
    ents = [
        e
        for e in r["budgets"]["entities"]
        if e["days_left"] is not None and e["days_left"] < 7 and (e["days_left"] == 0 or not e["resets_first"])
    ]
    if not ents:
        return []
    worst = min(ents, key=lambda e: e["days_left"])
    gone = [e for e in ents if e["days_left"] == 0]

    def state(e: dict) -> str:
        if e["days_left"] > 0:
            return f", runs out in {e['days_left'] * 24:.1f} h" + (
                f" (resets {e['budget_reset_at']})" if e["budget_reset_at"] else " (no reset)"
            )
        return " (exhausted" + (
            f" until its reset at {e['budget_reset_at']})" if e["budget_reset_at"] else ", no reset)"
        )

    text = "; ".join(
        f"{e['kind']} {e['name']}: {pct(e['used'], 0)} of {usd(e['max_budget_usd'])}{state(e)}" for e in ents[:5]
    )
    return [
        _f(
            "budgets",
            "Raise or re-plan budgets that are about to run out",
            "high" if gone or worst["days_left"] < 1 else "medium",
            "low",
            "Raise the budget, move the traffic to another key/team, or throttle it before LiteLLM starts "
            "rejecting requests (429 budget_exceeded).",
            {"entities": ents[:10]},
            text + ".",
        )
    ]
