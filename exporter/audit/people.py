"""Who spends and how well it is attributed: per-key summary, attribution gaps, pricing integrity, budgets."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypedDict

from exporter.audit.model import Options, ratio, share
from exporter.audit.queries import Raw, finite

Gap = Literal["no_end_user", "no_session", "no_tags", "no_team"]
GAPS: tuple[Gap, ...] = ("no_end_user", "no_session", "no_tags", "no_team")
# A model whose name says it is free: OpenRouter's `:free` variants, or `free` as a slug segment (openrouter/free)
FREE_NAME = re.compile(r"(:free$)|(^|[/:_.-])free($|[/:_.-])", re.IGNORECASE)


class _KeyTotals(TypedDict):
    requests: int
    failures: int
    spend_usd: float
    input_tokens: int
    output_tokens: int


class _KeyGaps(TypedDict):
    requests: int
    spend: float
    # [rows, spend] without an end user, session id, client tags or team
    no_end_user: list[float]
    no_tags: list[float]
    no_team: list[float]
    no_session: list[float]


class _ModelPricing(TypedDict):
    priced_requests: int
    unpriced_requests: int
    unpriced_tokens: int


def _key_name(raw: Raw, api_key: str) -> str:
    return raw.key_names.get(api_key, "(unknown key)" if api_key else "(no key)")


def _iso(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat() + "Z"


def keys(detail: list[dict], raw: Raw) -> list[dict]:
    acc: defaultdict[str, _KeyTotals] = defaultdict(
        lambda: {"requests": 0, "failures": 0, "spend_usd": 0.0, "input_tokens": 0, "output_tokens": 0}
    )
    teams: defaultdict[str, set[str]] = defaultdict(set)
    for r in detail:
        a = acc[r["api_key"]]
        a["requests"] += r["requests"]
        a["failures"] += r["requests"] if r["failed"] else 0
        a["spend_usd"] += r["spend"]
        a["input_tokens"] += r["input_tokens"]
        a["output_tokens"] += r["output_tokens"]
        if r["team_id"]:
            teams[r["api_key"]].add(raw.team_names.get(r["team_id"], r["team_id"]))
    out: list[dict[str, Any]] = []
    for api_key, a in acc.items():
        out.append(
            {
                "key": _key_name(raw, api_key),
                "hashed_api_key": api_key,
                "teams": sorted(teams[api_key]),
                **a,
                "error_rate": share(a["failures"], a["requests"]),
                "input_output_ratio": ratio(a["input_tokens"], a["output_tokens"]),
            }
        )
    return sorted(out, key=lambda k: (-k["spend_usd"], -k["requests"], k["key"]))


def _gap(rows: float, spend: float, requests: int, total_spend: float) -> dict:
    return {
        "requests": int(rows),
        "share": share(rows, requests),
        "spend_usd": spend,
        "spend_share": share(spend, total_spend),
    }


def attribution(detail: list[dict], raw: Raw, requests: int, spend: float) -> dict:
    per: defaultdict[str, _KeyGaps] = defaultdict(
        lambda: {
            "requests": 0,
            "spend": 0.0,
            "no_end_user": [0, 0.0],
            "no_tags": [0, 0.0],
            "no_team": [0, 0.0],
            "no_session": [0, 0.0],
        }
    )
    for r in detail:
        p = per[r["api_key"]]
        p["requests"] += r["requests"]
        p["spend"] += r["spend"]
        p["no_end_user"][0] += r["no_end_user_rows"]
        p["no_end_user"][1] += finite(r["no_end_user_spend"])
        p["no_tags"][0] += r["no_tags_rows"]
        p["no_tags"][1] += finite(r["no_tags_spend"])
        if not r["team_id"]:
            p["no_team"][0] += r["requests"]
            p["no_team"][1] += r["spend"]
    sess = {s["api_key"]: s for s in (raw.sessions or [])}
    for api_key, p in per.items():
        s = sess.get(api_key, {})
        p["no_session"] = [
            p["requests"] - int(s.get("rows_reusable") or 0),
            p["spend"] - finite(s.get("spend_reusable")),
        ]
    total = {g: (sum(p[g][0] for p in per.values()), sum(p[g][1] for p in per.values())) for g in GAPS}
    have_sessions = raw.sessions is not None
    out: dict[str, Any] = {"requests": requests, "spend_usd": spend}
    for g in GAPS:
        out[g] = _gap(*total[g], requests, spend) if (g != "no_session" or have_sessions) else None
    srows = raw.sessions or []
    by_key: list[dict[str, Any]] = [
        {
            "key": _key_name(raw, k),
            "requests": p["requests"],
            "spend_usd": p["spend"],
            **{g: (share(p[g][0], p["requests"]) if (g != "no_session" or have_sessions) else None) for g in GAPS},
        }
        for k, p in per.items()
    ]
    out.update(
        {
            "rows_with_end_user": requests - total["no_end_user"][0],
            "rows_with_client_tags": requests - total["no_tags"][0],
            "rows_with_team": requests - total["no_team"][0],
            "rows_with_session_id": sum(int(s["rows_with_session"]) for s in srows) if have_sessions else None,
            "rows_with_reusable_session_id": sum(int(s["rows_reusable"]) for s in srows) if have_sessions else None,
            "distinct_session_ids": round(sum(finite(s["sessions"]) for s in srows)) if have_sessions else None,
            "reusable_session_ids": round(sum(finite(s["reusable_sessions"]) for s in srows))
            if have_sessions
            else None,
            "by_key": sorted(by_key, key=lambda x: (-x["spend_usd"], -x["requests"])),
        }
    )
    return out


def is_free(model: str, groups) -> bool:
    return any(FREE_NAME.search(name or "") for name in (model, *groups))


def pricing(detail: list[dict]) -> dict:
    """Rows with tokens but zero spend (not failures, not cache hits): a pricing gap, unless the model is free.

    Free means both: no row of the model was ever priced, and its name (or model group) says it is free. A paid
    model that LiteLLM never priced (every row $0) is a gap too, not a free model."""
    acc: defaultdict[str, _ModelPricing] = defaultdict(
        lambda: {"priced_requests": 0, "unpriced_requests": 0, "unpriced_tokens": 0}
    )
    groups: defaultdict[str, set[str]] = defaultdict(set)
    for r in detail:
        a = acc[r["model"]]
        a["priced_requests"] += r["priced_rows"]
        a["unpriced_requests"] += r["unpriced_rows"]
        a["unpriced_tokens"] += int(r["unpriced_tokens"])
        groups[r["model"]].add(r["model_group"])
    flagged: list[dict[str, Any]] = []
    free: list[dict[str, Any]] = []
    for model, a in sorted(acc.items()):
        if not a["unpriced_requests"]:
            continue
        item: dict[str, Any] = {"model": model, "model_groups": sorted(g for g in groups[model] if g), **a}
        free_model = not a["priced_requests"] and is_free(model, item["model_groups"])
        (free if free_model else flagged).append({**item, "never_priced": not a["priced_requests"]})
    flagged.sort(key=lambda x: -x["unpriced_requests"])
    return {
        "unpriced_requests": sum(x["unpriced_requests"] for x in flagged),
        "unpriced_tokens": sum(x["unpriced_tokens"] for x in flagged),
        "models": flagged,
        "free_models": [x["model"] for x in free],
    }


def budgets(raw: Raw, opts: Options) -> dict:
    burn_start, burn_end = raw.burn_start, raw.burn_end
    assert burn_start is not None and burn_end is not None, "queries.collect sets the burn window"
    days = max((burn_end - burn_start).total_seconds() / 86400, 1e-9)
    burn = {(r["kind"], r["id"]): finite(r["spend"]) for r in raw.burn}
    ents = []
    key_match = lambda r: opts.key in (r["key_alias"], r["key_name"], r["hashed_api_key"])
    for r in raw.keys:
        if (opts.key and not key_match(r)) or (opts.team and opts.team not in (r["team_alias"], r["team_id"])):
            continue
        ents.append(
            ("key", r["key_alias"] or r["key_name"] or r["hashed_api_key"][:12], r, ("key", r["hashed_api_key"]))
        )
    if not opts.key:
        for r in raw.teams:
            if opts.team and opts.team not in (r["team_alias"], r["team_id"]):
                continue
            ents.append(("team", r["team_alias"] or r["team_id"], r, ("team", r["team_id"])))
    if not opts.key and not opts.team:
        for r in raw.users:
            ents.append(("user", r["user_id"], r, ("user", r["user_id"])))
    out = []
    for kind, name, r, bk in ents:
        limit, spent = r["max_budget"], finite(r["spend"])
        if limit is None or limit <= 0:
            continue
        used = spent / limit
        if used < opts.budget_threshold:
            continue
        rate = burn.get(bk, 0.0) / days
        left = max(limit - spent, 0.0)
        days_left = 0.0 if left == 0 else (left / rate if rate > 0 else None)
        runs_out = burn_end + timedelta(days=days_left) if days_left is not None else None
        reset = r.get("budget_reset_at")
        out.append(
            {
                "kind": kind,
                "name": name,
                "spend_usd": spent,
                "max_budget_usd": limit,
                "used": used,
                "remaining_usd": limit - spent,
                "burn_usd_per_day": rate,
                "days_left": days_left,
                "runs_out_at": _iso(runs_out),
                "budget_reset_at": _iso(reset),
                "resets_first": bool(reset and runs_out and reset.replace(tzinfo=None) < runs_out),
            }
        )
    out.sort(key=lambda e: (-e["used"], e["kind"], e["name"]))
    return {
        "threshold": opts.budget_threshold,
        "burn_window": {"start": _iso(burn_start), "end": _iso(burn_end), "days": days},
        "entities": out,
    }
