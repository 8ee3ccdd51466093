"""Hand-made LiteLLM_SpendLogs rows and SQL ground truth, for tests that need exact control over rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count

from psycopg.types.json import Jsonb

_ids = count(1)
NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def row(
    start: datetime | None = None,
    *,
    status: str = "success",
    spend: float = 0.01,
    model: str = "gpt-4o",
    model_group: str = "gpt-4o",
    provider: str = "openai",
    api_key: str = "hash-a",
    team_id: str = "team-a",
    user: str = "user-a",
    end_user: str = "",
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    duration: float = 1.0,
    ttft: float | None = None,
    error: dict | None = None,
    request_id: str | None = None,
    metadata: object | None = None,
) -> dict:
    start = start or NOW - timedelta(minutes=1)
    end = start + timedelta(seconds=duration)
    meta = (
        metadata
        if metadata is not None
        else {"status": status, "user_api_key_alias": None, "error_information": error if status == "failure" else None}
    )
    return {
        "request_id": request_id or f"req-{next(_ids)}",
        "call_type": "acompletion",
        "api_key": api_key,
        "spend": spend,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "startTime": start,
        "endTime": end,
        "completionStartTime": start + timedelta(seconds=ttft) if ttft is not None else end,
        "model": model,
        "model_group": model_group,
        "custom_llm_provider": provider,
        "user": user,
        "team_id": team_id,
        "end_user": end_user,
        "status": status,
        "metadata": meta,
    }


def failure(
    start: datetime | None = None,
    normalized: str | None = "429_RATE_LIMIT_EXCEEDED",
    code: str = "429",
    cls: str = "RateLimitError",
    message: str = "rate limited",
    **kw,
) -> dict:
    error = {"error_code": code, "error_class": cls, "error_message": message}
    if normalized is not None:
        error["normalized_error"] = normalized
    return row(
        start,
        status="failure",
        spend=kw.pop("spend", 0.0),
        completion_tokens=kw.pop("completion_tokens", 0),
        error=error,
        **kw,
    )


def insert(db, rows: list[dict], status_column: bool = True, track_counts: bool = True) -> None:
    """Insert rows; track_counts=False keeps them out of PostgreSQL's statistics (as if unflushed)."""
    columns = [c for c in rows[0] if status_column or c != "status"]
    quoted = ", ".join(f'"{c}"' for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with db.connect() as conn:
        if not track_counts:
            conn.execute("SET track_counts = off")
        with conn.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "LiteLLM_SpendLogs" ({quoted}) VALUES ({placeholders})',
                [[Jsonb(r[c]) if c == "metadata" else r[c] for c in columns] for r in rows],
            )


def ground_truth(db, group_by: str = "model_group") -> dict:
    """SQL totals over the rows present, per `group_by` value: requests, failures, spend, tokens."""
    with db.connect() as conn:
        out = {}
        for key, requests, failures, spend, inp, outp in conn.execute(
            f"SELECT COALESCE({group_by}, ''), count(*), "
            f"count(*) FILTER (WHERE COALESCE(status, metadata->>'status') = 'failure'), "
            f'sum(spend), sum(prompt_tokens), sum(completion_tokens) FROM "LiteLLM_SpendLogs" GROUP BY 1'
        ):
            out[key] = {"requests": requests, "failures": failures, "spend": spend, "input": inp, "output": outp}
        return out


def dumps(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
