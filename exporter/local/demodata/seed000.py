"""The dataset of seed 000 (a practitioner's "flat audit" of 21 hours of LLM-router traffic), as LiteLLM rows.

330 requests through an OpenRouter-fronted LiteLLM, with the seed's numbers: 106 failures (32.1%): 91
context-window overflows (max_tokens 720000 on ~337-token prompts) and 15 others; two slugs that always fail
(`openrouter/free` 91/91, `google/gemma-4-26b-a4b-it:free` 9/9); $2.8577 spend, 52% of it in two Opus calls
($1.1086 and $0.3773); 9,745,108 input vs 100,371 output tokens (97:1); latency p50 3.2 s, p95 30.1 s,
p99 69.6 s, max 223.7 s; an end user on 0.6% of requests and no session id used twice.

The seed counts its two always-failing slugs inside the 106 errors and also says 91 errors were context
overflows: both hold here because the 91 `openrouter/free` requests are the ones that asked for 720000 output
tokens (91 = 91). The other 15 failures are the 9 gemma requests (invalid model id) and 6 provider errors (4 rate
limits, 2 overloaded) on free models; those 15 carry no normalized_error (an older LiteLLM), so the audit
classifies them itself. Failed rows have 0 tokens and $0, as LiteLLM writes them. Only SpendLogs, keys and teams
are written (no Daily* rollups).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import datetime, timedelta
from typing import TypedDict

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

END = datetime(2026, 11, 20, 9, 0)
HOURS = 21
OPUS = "anthropic/claude-opus-4.6"
FLASH_LITE = "google/gemini-2.5-flash-lite"
MINIMAX = "minimax/minimax-m2.5:free"
CTX_SLUG, GEMMA = "openrouter/free", "google/gemma-4-26b-a4b-it:free"
FREE = {
    "openai/gpt-oss-20b:free": 5,
    "openai/gpt-oss-120b:free": 10,
    "qwen/qwen3-coder:free": 11,
    "nvidia/nemotron-3-nano-30b-a3b:free": 8,
    "qwen/qwen3-next-80b-a3b-instruct:free": 7,
    "z-ai/glm-4.5-air:free": 8,
    "nvidia/nemotron-3-super-120b-a12b:free": 9,
    "meta-llama/llama-3.3-70b-instruct:free": 8,
    "nvidia/nemotron-nano-12b-v2-vl:free": 10,
    "poolside/laguna-xs.2:free": 6,
    "poolside/laguna-m.1:free": 6,
    "nvidia/nemotron-nano-9b-v2:free": 10,
    "tencent/hy3-preview:free": 9,
}
PAID = {
    "openai/gpt-4.1-mini": 30,
    "deepseek/deepseek-chat-v3.1": 25,
    "qwen/qwen3-235b-a22b-2507": 20,
    "mistralai/mistral-small-3.2-24b-instruct": 10,
    "z-ai/glm-4.6": 6,
    "x-ai/grok-4-fast": 4,
}


class Totals(TypedDict):
    """The seed's headline numbers, which `load` returns."""

    requests: int
    failures: int
    spend: float
    input: int
    output: int


TOTALS: Totals = {"requests": 330, "failures": 106, "spend": 2.8577, "input": 9_745_108, "output": 100_371}
KEYS = {"llm-router": "assistant", "batch-replay": None}
UA = ["User-Agent: python-httpx", "User-Agent: python-httpx/0.28.1"]
_NOFB = "\n\nLiteLLM: model group '{g}' failed with the error above. No fallback was attempted."
CTX_MSG = (
    "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: "
    "OpenrouterException - This endpoint's maximum context length is 262144 tokens. However, you requested "
    "about {t} tokens ({i} of text input, 720000 in the output). Please reduce the length of either one, or "
    'use the "middle-out" transform to compress your prompt automatically.'
)
OTHER_ERRORS = [  # (slug, count, code, class, message)
    (
        GEMMA,
        9,
        "400",
        "BadRequestError",
        'litellm.BadRequestError: OpenrouterException - {"error":{"message":'
        f'"{GEMMA} is not a valid model ID","code":400}}',
    ),
    (
        "meta-llama/llama-3.3-70b-instruct:free",
        4,
        "429",
        "RateLimitError",
        "litellm.RateLimitError: OpenrouterException - Rate limit exceeded: free-models-per-min.",
    ),
    (
        "qwen/qwen3-coder:free",
        2,
        "503",
        "ServiceUnavailableError",
        "litellm.ServiceUnavailableError: OpenrouterException - Provider returned error",
    ),
]


def token(name: str) -> str:
    return hashlib.sha256(f"sk-seed000-{name}".encode()).hexdigest()


def _durations(rng: random.Random) -> tuple[list[int], list[int]]:
    """(failure ms, success ms): 330 values whose percentile_cont p50/p95/p99/max are 3.2/30.1/69.6/223.7 s."""
    fails = [int(rng.triangular(50, 200, 94)) for _ in range(106)]
    fails[0] = 94
    ok = sorted(rng.randint(400, 3190) for _ in range(58))
    ok += [3200, 3200]
    ok += sorted(int(3210 * (30090 / 3210) ** (k / 145)) for k in range(146))
    ok += [30100, 30100]
    ok += sorted(rng.randint(30200, 69500) for _ in range(11))
    ok += [69600, 69600, 95300, 141800, 223700]
    assert len(ok) == 224 and sorted(fails + ok)[164] == 3200 and sorted(fails + ok)[329] == 223700
    return fails, ok


def _split(rng: random.Random, total: int, n: int, cap: int) -> list[int]:
    w = [rng.lognormvariate(0, 0.9) for _ in range(n)]
    vals = [max(1, min(cap, int(total * x / sum(w)))) for x in w]
    i = 0
    while sum(vals) != total:  # spread the rounding remainder without crossing the cap
        d = total - sum(vals)
        step = max(-vals[i] + 1, min(cap - vals[i], d))
        vals[i] += step
        i = (i + 1) % n
    return vals


def rows(end: datetime = END, seed: int = 0) -> list[dict]:
    """The 330 requests as dicts of SpendLogs columns (startTime order)."""
    rng = random.Random(f"seed000:{seed}")
    fail_ms, ok_ms = _durations(rng)
    reqs: list[dict] = []
    for _ in range(91):
        i = rng.choice([337, 337, 337, 329, 341, 352, 318])
        reqs.append(
            {
                "slug": CTX_SLUG,
                "failed": True,
                "code": "400",
                "class": "ContextWindowExceededError",
                "normalized": "400_CONTEXT_WINDOW_EXCEEDED",
                "msg": CTX_MSG.format(t=i + 720000, i=i),
            }
        )
    for slug, n, code, cls, msg in OTHER_ERRORS:
        reqs += [
            {"slug": slug, "failed": True, "code": code, "class": cls, "normalized": None, "msg": msg} for _ in range(n)
        ]
    special = [(OPUS, 221_266, 91, 1.1086), (OPUS, 75_101, 77, 0.3773), (MINIMAX, 20_619, 86, 0.0)]
    special += [
        (FLASH_LITE, i, o, round(i * 0.1e-6 + o * 0.4e-6, 6))
        for i, o in ((189_412, 310), (188_977, 296), (189_730, 322), (188_655, 288))
    ]
    plain = [s for s, n in {**FREE, **PAID, FLASH_LITE: 10, MINIMAX: 5}.items() for _ in range(n)]
    rest_in = TOTALS["input"] - sum(s[1] for s in special)
    rest_out = TOTALS["output"] - sum(s[2] for s in special)
    ins, outs = _split(rng, rest_in, len(plain), 150_000), _split(rng, rest_out, len(plain), 4_000)
    paid_idx = [k for k, s in enumerate(plain) if s in PAID or s == FLASH_LITE]
    budget = round(TOTALS["spend"] - sum(s[3] for s in special), 6)
    weight = {k: ins[k] + 4 * outs[k] for k in paid_idx}
    spend = {k: round(budget * weight[k] / sum(weight.values()), 6) for k in paid_idx}
    spend[paid_idx[-1]] = round(budget - sum(v for k, v in spend.items() if k != paid_idx[-1]), 6)
    for slug, i, o, s in special:
        reqs.append({"slug": slug, "failed": False, "in": i, "out": o, "spend": s})
    reqs += [
        {"slug": s, "failed": False, "in": ins[k], "out": outs[k], "spend": spend.get(k, 0.0)}
        for k, s in enumerate(plain)
    ]
    rng.shuffle(reqs)
    ok_iter, fail_iter = iter(rng.sample(ok_ms, len(ok_ms))), iter(fail_ms)
    span = HOURS * 3_600_000
    starts = sorted(rng.randrange(0, span - 240_000) for _ in reqs)
    end_users = set(rng.sample(range(len(reqs)), 2))
    out = []
    for n, (r, st) in enumerate(zip(reqs, starts)):
        dur = next(fail_iter) if r["failed"] else (223_700 if r["slug"] == MINIMAX and r["out"] == 86 else None)
        if dur is None:
            dur = next(ok_iter)
            if dur == 223_700:
                dur = next(ok_iter)
        start = end - timedelta(milliseconds=span - st)
        stop = start + timedelta(milliseconds=dur)
        stream = not r["failed"] and rng.random() < 0.3 and dur > 600
        first = start + timedelta(milliseconds=min(dur - 1, rng.randint(300, 1500))) if stream else stop
        key = "batch-replay" if n % 11 == 10 else "llm-router"
        call = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        meta: dict[str, object] = {
            "user_api_key_alias": key,
            "status": "failure" if r["failed"] else "success",
            "litellm_call_id": call,
            "attempted_retries": 0,
        }
        if r["failed"]:
            ei = {
                "error_code": r["code"],
                "error_class": r["class"],
                "llm_provider": "openrouter",
                "error_message": r["msg"] + _NOFB.format(g=r["slug"]),
                "traceback": "",
            }
            if r["normalized"]:
                ei["normalized_error"] = r["normalized"]
            meta["error_information"] = ei
        else:
            meta["usage_object"] = {
                "prompt_tokens": r["in"],
                "completion_tokens": r["out"],
                "total_tokens": r["in"] + r["out"],
            }
        pt, ct = (0, 0) if r["failed"] else (r["in"], r["out"])
        out.append(
            {
                "request_id": call if r["failed"] else f"gen-{call}",
                "call_type": "acompletion",
                "api_key": token(key),
                "spend": 0.0 if r["failed"] else r["spend"],
                "total_tokens": pt + ct,
                "prompt_tokens": pt,
                "completion_tokens": ct,
                "startTime": start,
                "endTime": stop,
                "completionStartTime": first,
                "model": f"openrouter/{r['slug']}",
                "model_id": hashlib.md5(r["slug"].encode()).hexdigest(),
                "model_group": r["slug"],
                "custom_llm_provider": "openrouter",
                "api_base": "https://openrouter.ai/api/v1",
                "user": "router-svc",
                "metadata": Jsonb(meta),
                "cache_hit": "None",
                "cache_key": "Cache OFF",
                "request_tags": Jsonb(UA),
                "team_id": token("team-assistant")[:36] if KEYS[key] else "",
                "end_user": f"user-{n}" if n in end_users else "",
                "requester_ip_address": "10.0.0.7",
                "session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "status": "failure" if r["failed"] else "success",
            }
        )
    return out


def load(conninfo: str, *, end: datetime = END, seed: int = 0, schema: str = "public") -> dict:
    """Write the dataset (keys, team, 330 SpendLogs rows) into a database with LiteLLM's schema; returns TOTALS."""
    data = rows(end, seed)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'LiteLLM_SpendLogs'",
                (schema,),
            )
        }
        names = [c for c in data[0] if c in cols]
        t = lambda name: sql.Identifier(schema, name)
        with conn.transaction():
            team_id = token("team-assistant")[:36]
            conn.execute(
                sql.SQL("INSERT INTO {} (team_id, team_alias, spend, models) VALUES (%s, %s, %s, %s)").format(
                    t("LiteLLM_TeamTable")
                ),
                (team_id, "assistant", sum(r["spend"] for r in data if r["team_id"]), []),
            )
            for key, team in KEYS.items():
                conn.execute(
                    sql.SQL(
                        "INSERT INTO {} (token, key_name, key_alias, team_id, spend, models) "
                        "VALUES (%s, %s, %s, %s, %s, %s)"
                    ).format(t("LiteLLM_VerificationToken")),
                    (
                        token(key),
                        "sk-..." + token(key)[-4:],
                        key,
                        team_id if team else None,
                        sum(r["spend"] for r in data if r["api_key"] == token(key)),
                        [],
                    ),
                )
            with conn.cursor().copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(
                    t("LiteLLM_SpendLogs"), sql.SQL(", ").join(map(sql.Identifier, names))
                )
            ) as cp:
                for r in data:
                    cp.write_row([r[c] for c in names])
    return dict(TOTALS)
