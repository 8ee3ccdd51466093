"""In-memory rollups of one chunk (as LiteLLM keeps them before its upserts), formatted as COPY text."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.local.demodata.textfmt import NULL, copy_text, ts_formatter

# columns of the temp tables the aggregates are COPied into
FINE_COLUMNS = [
    ("date", "text"),
    ("api_key", "text"),
    ("model", "text"),
    ("custom_llm_provider", "text"),
    ("model_group", "text"),
    ("endpoint", "text"),
    ("u", "text"),
    ("team", "text"),
    ("org", "text"),
    ("eu", "text"),
    ("tags", "jsonb"),
    ("prompt_tokens", "bigint"),
    ("completion_tokens", "bigint"),
    ("spend", "double precision"),
    ("api_requests", "bigint"),
    ("successful_requests", "bigint"),
    ("failed_requests", "bigint"),
    ("cache_read_input_tokens", "bigint"),
    ("cache_creation_input_tokens", "bigint"),
    ("total_response_time_ms", "bigint"),
    ("timed_requests", "bigint"),
    ("any_request_id", "text"),
]
SPEND_COLUMNS = [
    ("kind", "text"),
    ("id", "text"),
    ("id2", "text"),
    ("hour", "timestamp(3)"),
    ("spend", "double precision"),
]


@dataclass
class Aggregates:
    # (day, key profile, deployment, end user, tags JSON) -> [prompt, completion, spend, api, ok, failed,
    #  cache read, cache write, response ms, timed, first request_id]
    fine: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)  # (key profile, hour) -> spend
    end_users: dict = field(default_factory=dict)  # (end user, hour) -> spend

    def fine_text(self) -> str:
        fmt = ts_formatter()
        out = []
        for (day, kp, dep, eu, tags), a in self.fine.items():
            date = fmt(day * 86_400_000)[:10]
            team = kp.team_s  # '' for keys without a team: LiteLLM writes those too, only NULL is skipped
            out.append(
                f"{date}\t{kp.token}\t{dep.rollup}\t{kp.user_s}\t{team}\t{kp.org or NULL}\t{eu}\t{tags}\t"
                f"{a[0]}\t{a[1]}\t{a[2]!r}\t{a[3]}\t{a[4]}\t{a[5]}\t{a[6]}\t{a[7]}\t{a[8]}\t{a[9]}\t"
                f"{a[10]}\n"
            )
        return "".join(out)

    def spend_text(self) -> str:
        """Spend per entity and hour: the period rule (startTime >= budget_reset_at - duration) is applied in
        SQL at hour granularity, exact for LiteLLM's standardized resets (whole hours, midnights)."""
        fmt = ts_formatter()
        total: dict[tuple, float] = {}
        for (kp, hour), spend in self.keys.items():
            ids = [("key", kp.token, "")]
            if kp.user:
                ids.append(("user", kp.user, ""))
            if kp.team:
                ids.append(("team", kp.team, ""))
            if kp.org:
                ids.append(("org", kp.org, ""))
            if kp.user and kp.team:
                ids.append(("member", kp.user, kp.team))
            for i in ids:
                total[(*i, hour)] = total.get((*i, hour), 0.0) + spend
        for (eu, hour), spend in self.end_users.items():
            total[("end_user", eu, "", hour)] = total.get(("end_user", eu, "", hour), 0.0) + spend
        return "".join(
            f"{k}\t{copy_text(i)}\t{copy_text(i2)}\t{fmt(h * 3_600_000)}\t{v!r}\n" for (k, i, i2, h), v in total.items()
        )
