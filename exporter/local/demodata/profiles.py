"""Precomputed per-key and per-deployment fragments (COPY-escaped) that the row generator splices together."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from exporter.local.demodata import catalog as cat
from exporter.local.demodata.textfmt import cj, copy_text

BIG = 1 << 62  # "never" in epoch milliseconds
PROVIDER_TITLE = {
    "openai": "OpenAI",
    "azure": "Azure",
    "anthropic": "Anthropic",
    "bedrock": "Bedrock",
    "gemini": "Gemini",
    "vertex_ai": "Vertex_ai",
    "groq": "Groq",
    "openrouter": "Openrouter",
    "": "",
}


@dataclass(eq=False)  # hashed by identity: used as a key of the rollup aggregates
class Dep:
    """One deployment, ready to splice: the five model columns pre-joined."""

    d: cat.Deployment | None
    frag: str  # model \t model_id \t model_group \t custom_llm_provider \t api_base
    rollup: str  # model \t custom_llm_provider \t model_group \t endpoint (the daily tables' columns)
    group: str
    provider: str
    md_group: str  # the original_model_group JSON value
    endpoint: str
    call_type: str
    embed: bool = False
    always_fail: bool = False
    absurd_target: bool = False
    big_context: bool = False


def make_dep(d: cat.Deployment) -> Dep:
    frag = "\t".join(copy_text(x) for x in (d.model, d.model_id, d.group, d.provider, d.api_base))
    rollup = "\t".join(copy_text(x) for x in (d.model, d.provider, d.group, d.endpoint))
    return Dep(
        d,
        frag,
        rollup,
        d.group,
        d.provider,
        cj(d.group),
        d.endpoint,
        d.call_type,
        d.call_type == "aembedding",
        d.group == cat.ALWAYS_FAILING_GROUP,
        d.group == cat.ABSURD_MAX_TOKENS_GROUP,
        d.context >= 200000,
    )


def bare_dep(model: str) -> Dep:
    """A request the proxy rejected before routing: only the requested name is known."""
    return Dep(
        None,
        "\t".join((copy_text(model), "", "", "", "")),
        f"{copy_text(model)}\t\t\t/chat/completions",
        "",
        "",
        "null",
        "/chat/completions",
        "acompletion",
    )


DEPS = {g: [make_dep(d) for d in ds] for g, ds in cat.GROUPS.items()}


def expand(weighted: list[tuple[object, float]], size: int = 256) -> list:
    """A lookup table for O(1) weighted picks: table[int(random() * len(table))]."""
    total = sum(w for _, w in weighted)
    table: list = []
    acc = 0.0
    for item, w in weighted:
        acc += w
        table.extend([item] * (round(acc / total * size) - len(table)))
    return table or [weighted[0][0]]


@dataclass(eq=False)
class KeyProfile:
    token: str
    alias: str | None
    masked: str
    user: str | None
    team: str | None
    org: str | None
    user_s: str  # SpendLogs.user ('' when none)
    team_s: str  # SpendLogs.team_id ('' when none)
    org_s: str  # SpendLogs.organization_id ('' when none)
    ip: str
    md_key: tuple[str, str, str]  # key-constant metadata: user_agent value, two runs of members
    deps: list[Dep]
    tags: list[str]  # request_tags JSON, COPY-escaped
    stream: float = 0.0
    end_users: list[str] = field(default_factory=list)
    end_user_p: float = 0.0
    p_mu: float = 6.0
    c_mu: float = 5.0
    c_rl: float = 0.0  # cumulative thresholds of the gateway rejections
    c_budget: float = 0.0
    c_access: float = 0.0
    absurd: float = 0.0
    blocked_from: int = BIG
    expires_ms: int = BIG
    expires_text: str = ""
    unknown: bool = False
    denied: Dep | None = None
    sessions: list[str] = field(default_factory=list)


def end_user_pool(key: cat.Key) -> list[str]:
    return [f"cust-{int(cat.sha256_hex(f'eu:{key.name}:{i}')[:8], 16) % 10000:04d}" for i in range(key.end_users)]


def jsonb_order(members: dict) -> list[tuple[str, object]]:
    """jsonb's own key order (shorter keys first, then bytewise): the server's sort then finds them in order."""
    return sorted(members.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))


def _md_key(
    alias, team: cat.Team | None, user: str | None, org: str | None, agent: str, ip: str
) -> tuple[str, str, str]:
    """Key-constant metadata members, in three runs that sit between the per-row members (see RowGen.emit)."""
    mid = {
        "applied_guardrails": [],
        "user_api_key_alias": alias,
        "attempted_fallbacks": 0,
        "spend_logs_metadata": None,
        "user_api_key_org_id": org,
    }
    tail = {
        "requester_ip_address": ip,
        "user_api_key_team_id": team.id if team else None,
        "user_api_key_user_id": user,
        "mcp_tool_call_metadata": None,
        "user_api_key_team_alias": team.alias if team else None,
        "user_api_key_user_email": f"{user}@acme.example" if user else None,
    }
    return (
        cj(agent),
        ", ".join(f"{cj(k)}: {cj(v)}" for k, v in jsonb_order(mid)),
        ", ".join(f"{cj(k)}: {cj(v)}" for k, v in jsonb_order(tail)),
    )


def key_profiles(key_state: dict[str, dict]) -> tuple[list[KeyProfile], list[float], list[KeyProfile]]:
    """Profiles of the catalog keys (weights alongside) and of the unknown keys.

    key_state maps key name -> {"blocked_from": ms, "expires": ms, "expires_text": str} (hazard times)."""
    teams = {t.alias: t for t in cat.TEAMS}
    orgs = {o.alias: o for o in cat.ORGS}
    profiles, weights = [], []
    for i, k in enumerate(cat.KEYS):
        team = teams.get(k.team) if k.team else None
        org = orgs[team.org].id if team and team.org else None
        ip = f"10.20.{i // 8}.{10 + i}"
        deps = expand([(dep, w / len(DEPS[g])) for g, w in k.groups.items() for dep in DEPS[g]])
        tags = expand([(cj(list(t)), w) for t, w in k.tags], 64)
        st = key_state.get(k.name, {})
        denied = next((g for g in ("claude-opus-4", "gpt-4o", "o4-mini") if g not in k.groups), "gpt-4o")
        p = KeyProfile(
            token=k.token,
            alias=k.alias,
            masked=k.masked,
            user=k.user,
            team=team.id if team else None,
            org=org,
            user_s=copy_text(k.user or ""),
            team_s=team.id if team else "",
            org_s=org or "",
            ip=ip,
            md_key=_md_key(k.alias, team, k.user, org, k.agent, ip),
            deps=deps,
            tags=tags,
            stream=k.stream,
            end_users=end_user_pool(k),
            end_user_p=k.end_user_p,
            p_mu=math.log(k.prompt_median),
            c_mu=math.log(k.completion_median),
            absurd=k.absurd_max_tokens,
            blocked_from=st.get("blocked_from", BIG),
            expires_ms=st.get("expires", BIG),
            expires_text=st.get("expires_text", ""),
            denied=bare_dep(denied),
        )
        p.c_rl = k.proxy_rate_limit
        p.c_budget = p.c_rl + k.budget_exceeded
        p.c_access = p.c_budget + k.model_access
        profiles.append(p)
        weights.append(k.weight)
    common = expand([(dep, 1.0) for g in ("gpt-4o", "claude-sonnet-4", "gemini-flash") for dep in DEPS[g]])
    unknown = [
        KeyProfile(
            token=h,
            alias=None,
            masked="",
            user=None,
            team=None,
            org=None,
            user_s="",
            team_s="",
            org_s="",
            ip="203.0.113.7",
            deps=common,
            tags=[cj([])],
            unknown=True,
            md_key=_md_key(None, None, None, None, "curl/8.5.0", "203.0.113.7"),
        )
        for h in cat.UNKNOWN_KEY_HASHES
    ]
    return profiles, weights, unknown


def error_info(kind: cat.ErrorKind, message: str, provider: str, **extra) -> str:
    """The error_information JSON object, COPY-escaped."""
    info = {
        "traceback": "",
        "error_code": kind.code,
        "error_class": kind.error_class,
        "llm_provider": provider,
        "error_message": message,
        "normalized_error": kind.normalized,
        "error_budget_limit": None,
        "error_budget_spend": None,
        "error_rate_limit_type": kind.rl_type,
        "error_budget_entity_id": None,
        "error_budget_entity_type": kind.budget_entity,
        "error_provider_request_id": None,
        "error_rate_limit_category": kind.rl_category,
        "error_cooldown_deployments": None,
        **extra,
    }
    return cj(dict(jsonb_order(info)))


def message_for(kind: cat.ErrorKind, dep: Dep, kp: KeyProfile, **values) -> str:
    return kind.message.format(
        group=dep.group,
        model=dep.d.model if dep.d else "",
        alias=kp.alias or "",
        masked=kp.masked,
        provider=PROVIDER_TITLE.get(dep.provider, dep.provider.title()),
        **values,
    )
