"""Static demo catalog: model deployments with prices, error kinds, and the demo company's teams, users and keys."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

M = 1e-6  # prices below are USD per million tokens


def det_uuid(*parts: str) -> str:
    """A stable uuid-shaped id derived from names (no uuid4: the demo data must be reproducible)."""
    return str(uuid.UUID(bytes=hashlib.md5("|".join(parts).encode()).digest(), version=4))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Deployment:
    group: str  # public model name = SpendLogs.model_group
    model: str  # the model LiteLLM called = SpendLogs.model
    provider: str  # custom_llm_provider
    api_base: str
    price_in: float
    price_out: float
    price_cache_read: float = 0.0
    price_cache_write: float = 0.0
    call_type: str = "acompletion"
    tps: float = 80.0  # output tokens per second
    ttft_ms: float = 450.0  # median time to first token
    context: int = 128000
    cache_style: str = ""  # "anthropic" (top-level cache tokens), "openai" (prompt_tokens_details) or ""

    @property
    def model_id(self) -> str:
        return sha256_hex(f"deployment:{self.group}:{self.model}")

    @property
    def endpoint(self) -> str:
        return {"acompletion": "/chat/completions", "aembedding": "/embeddings"}.get(self.call_type, "")


OPENAI = "https://api.openai.com/v1"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
BEDROCK = "https://bedrock-runtime.us-east-1.amazonaws.com"
OPENROUTER = "https://openrouter.ai/api/v1"
GEMINI = "https://generativelanguage.googleapis.com/v1beta"
VERTEX = "https://europe-west4-aiplatform.googleapis.com/v1"

GROUPS: dict[str, list[Deployment]] = {
    "gpt-4o": [
        Deployment("gpt-4o", "gpt-4o", "openai", OPENAI, 2.5 * M, 10 * M, 1.25 * M, tps=90, cache_style="openai"),
        Deployment(
            "gpt-4o",
            "azure/gpt-4o-eu",
            "azure",
            "https://acme-eu.openai.azure.com/",
            2.5 * M,
            10 * M,
            1.25 * M,
            tps=70,
            cache_style="openai",
        ),
    ],
    "gpt-4o-mini": [
        Deployment(
            "gpt-4o-mini",
            "gpt-4o-mini",
            "openai",
            OPENAI,
            0.15 * M,
            0.6 * M,
            0.075 * M,
            tps=120,
            ttft_ms=300,
            cache_style="openai",
        )
    ],
    "o4-mini": [
        Deployment(
            "o4-mini",
            "o4-mini",
            "openai",
            OPENAI,
            1.1 * M,
            4.4 * M,
            0.275 * M,
            tps=110,
            ttft_ms=2500,
            context=200000,
            cache_style="openai",
        )
    ],
    "claude-sonnet-4": [
        Deployment(
            "claude-sonnet-4",
            "anthropic/claude-sonnet-4-20250514",
            "anthropic",
            ANTHROPIC,
            3 * M,
            15 * M,
            0.3 * M,
            3.75 * M,
            tps=65,
            ttft_ms=700,
            context=200000,
            cache_style="anthropic",
        ),
        Deployment(
            "claude-sonnet-4",
            "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0",
            "bedrock",
            BEDROCK,
            3 * M,
            15 * M,
            0.3 * M,
            3.75 * M,
            tps=55,
            ttft_ms=900,
            context=200000,
            cache_style="anthropic",
        ),
    ],
    "claude-opus-4": [
        Deployment(
            "claude-opus-4",
            "anthropic/claude-opus-4-1-20250805",
            "anthropic",
            ANTHROPIC,
            15 * M,
            75 * M,
            1.5 * M,
            18.75 * M,
            tps=35,
            ttft_ms=1400,
            context=200000,
            cache_style="anthropic",
        )
    ],
    "claude-haiku": [
        Deployment(
            "claude-haiku",
            "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0",
            "bedrock",
            BEDROCK,
            0.8 * M,
            4 * M,
            0.08 * M,
            1 * M,
            tps=110,
            ttft_ms=400,
            context=200000,
        )
    ],
    "gemini-flash": [
        Deployment(
            "gemini-flash",
            "gemini/gemini-2.5-flash",
            "gemini",
            GEMINI,
            0.3 * M,
            2.5 * M,
            tps=180,
            ttft_ms=500,
            context=1048576,
        ),
        Deployment(
            "gemini-flash",
            "vertex_ai/gemini-2.5-flash",
            "vertex_ai",
            VERTEX,
            0.3 * M,
            2.5 * M,
            tps=160,
            ttft_ms=550,
            context=1048576,
        ),
    ],
    "gemini-pro": [
        Deployment(
            "gemini-pro",
            "vertex_ai/gemini-2.5-pro",
            "vertex_ai",
            VERTEX,
            1.25 * M,
            10 * M,
            tps=90,
            ttft_ms=1800,
            context=1048576,
        )
    ],
    "llama-3.3-70b": [
        Deployment(
            "llama-3.3-70b",
            "groq/llama-3.3-70b-versatile",
            "groq",
            "https://api.groq.com/openai/v1",
            0.59 * M,
            0.79 * M,
            tps=300,
            ttft_ms=200,
        )
    ],
    "qwen3-coder": [
        Deployment(
            "qwen3-coder",
            "openrouter/qwen/qwen3-coder",
            "openrouter",
            OPENROUTER,
            0.22 * M,
            0.95 * M,
            tps=60,
            ttft_ms=900,
            context=262144,
        )
    ],
    # an invalid slug: every request fails with 400 (the group always fails)
    "openrouter-free": [Deployment("openrouter-free", "openrouter/free", "openrouter", OPENROUTER, 0.0, 0.0)],
    "text-embedding-3-small": [
        Deployment(
            "text-embedding-3-small",
            "text-embedding-3-small",
            "openai",
            OPENAI,
            0.02 * M,
            0.0,
            call_type="aembedding",
            ttft_ms=80,
        )
    ],
}
ALWAYS_FAILING_GROUP = "openrouter-free"
ABSURD_MAX_TOKENS_GROUP = "qwen3-coder"


@dataclass(frozen=True)
class ErrorKind:
    name: str
    code: str  # error_information.error_code: the HTTP status as a string
    error_class: str
    normalized: str
    message: str  # may hold {group}, {model}, {alias}, {masked}, {provider}
    gateway: bool  # rejected by the proxy before any provider call: no tokens, ~0.05-0.2 s
    rl_category: str | None = None
    rl_type: str | None = None
    budget_entity: str | None = None


_NOFB = "\n\nLiteLLM: model group '{group}' failed with the error above. No fallback was attempted."
ERRORS: dict[str, ErrorKind] = {
    e.name: e
    for e in [
        ErrorKind(
            "provider_rate_limit",
            "429",
            "RateLimitError",
            "429_RATE_LIMIT_EXCEEDED",
            "litellm.RateLimitError: {provider}Exception - Rate limit reached for requests. Please try again "
            "later." + _NOFB,
            False,
            "vendor_rate_limit",
            "requests",
        ),
        ErrorKind(
            "proxy_rate_limit",
            "429",
            "ProxyRateLimitError",
            "429_RATE_LIMIT_EXCEEDED",
            "litellm.RateLimitError: Rate limit exceeded for REDACTED Limit type: requests. Current limit: 60, "
            "Remaining: 0.",
            True,
            "litellm_rate_limit",
            "requests",
        ),
        ErrorKind(
            "key_budget",
            "422",
            "BudgetExceededError",
            "429_BUDGET_EXCEEDED",
            "Budget has been exceeded! Key={alias} ({masked}) Current cost: {spend}, Max budget: {limit}",
            True,
            "litellm_rate_limit",
            "budget",
            "key",
        ),
        ErrorKind(
            "unknown_key",
            "401",
            "KeyNotFoundError",
            "401_AUTHENTICATION_FAILED",
            "Authentication Error, Invalid API key provided.",
            True,
        ),
        ErrorKind(
            "blocked_key",
            "401",
            "ProxyException",
            "401_AUTHENTICATION_FAILED",
            "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
            True,
        ),
        ErrorKind(
            "expired_key",
            "401",
            "ProxyException",
            "401_AUTHENTICATION_FAILED",
            "Authentication Error - Expired Key. Key Expiry time {expires} and current time {now}",
            True,
        ),
        ErrorKind(
            "model_access",
            "403",
            "ModelAccessDeniedProxyException",
            "403_MODEL_ACCESS_DENIED",
            "The requested model '{group}' is not available for this API key, or the model name is invalid. "
            "Check the models available to you and try again.",
            True,
        ),
        ErrorKind(
            "unknown_model",
            "400",
            "ProxyModelNotFoundError",
            "400_INVALID_REQUEST",
            "/chat/completions: Invalid model name passed in. Call `/v1/models` to view available models for your key.",
            True,
        ),
        ErrorKind(
            "invalid_slug",
            "400",
            "BadRequestError",
            "400_INVALID_REQUEST",
            'litellm.BadRequestError: OpenrouterException - {{"error":{{"message":"free is not a valid model '
            'ID","code":400}},"user_id":"user_2x"}}' + _NOFB,
            False,
        ),
        ErrorKind(
            "context_output",
            "400",
            "ContextWindowExceededError",
            "400_CONTEXT_WINDOW_EXCEEDED",
            "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: "
            "OpenrouterException - This endpoint's maximum context length is {context} tokens. However, you "
            "requested about {total} tokens ({input} of text input, {output} in the output). Please reduce the "
            'length of either one, or use the "middle-out" transform to compress your prompt automatically.' + _NOFB,
            False,
        ),
        ErrorKind(
            "context_prompt",
            "400",
            "ContextWindowExceededError",
            "400_CONTEXT_WINDOW_EXCEEDED",
            'litellm.ContextWindowExceededError: AnthropicError - {{"type":"error","error":{{"type":'
            '"invalid_request_error","message":"prompt is too long: {input} tokens > {context} maximum"}}}}' + _NOFB,
            False,
        ),
        ErrorKind(
            "connection",
            "500",
            "InternalServerError",
            "500_PROVIDER_CONNECTION_ERROR",
            "litellm.InternalServerError: {provider}Exception - Connection error." + _NOFB,
            False,
        ),
        ErrorKind(
            "overloaded",
            "503",
            "ServiceUnavailableError",
            "503_PROVIDER_OVERLOADED",
            'litellm.ServiceUnavailableError: {provider}Exception - {{"type":"error","error":{{"type":'
            '"overloaded_error","message":"Overloaded"}}}}' + _NOFB,
            False,
        ),
        ErrorKind(
            "timeout",
            "408",
            "Timeout",
            "408_UPSTREAM_TIMEOUT",
            "litellm.Timeout: APITimeoutError - Request timed out. Error_str: Request timed out. - timeout "
            "value=600.0, time taken=600.01 seconds" + _NOFB,
            False,
        ),
        ErrorKind(
            "content_policy",
            "400",
            "ContentPolicyViolationError",
            "400_CONTENT_POLICY_VIOLATION",
            "litellm.ContentPolicyViolationError: AzureException - The response was filtered due to the prompt "
            "triggering Azure OpenAI's content management policy." + _NOFB,
            False,
        ),
    ]
}
# provider-side failures of working models, with relative weights
PROVIDER_ERRORS = [
    ("provider_rate_limit", 40),
    ("connection", 15),
    ("overloaded", 20),
    ("timeout", 8),
    ("content_policy", 4),
]


@dataclass(frozen=True)
class Org:
    alias: str
    budget_ratio: float | None = None  # max_budget = period spend / ratio, set after the load

    @property
    def id(self) -> str:
        return det_uuid("org", self.alias)


@dataclass(frozen=True)
class Team:
    alias: str
    org: str | None = None
    budget_ratio: float | None = None
    budget_duration: str | None = None
    soft_ratio: float | None = None  # soft_budget = max_budget * soft_ratio

    @property
    def id(self) -> str:
        return det_uuid("team", self.alias)


@dataclass(frozen=True)
class User:
    id: str
    budget_ratio: float | None = None
    budget_duration: str | None = None
    role: str = "internal_user"

    @property
    def email(self) -> str:
        return f"{self.id}@acme.example"


@dataclass(frozen=True)
class Key:
    name: str  # stable internal name (the seed of the secret); alias may be None or shared
    alias: str | None
    user: str | None
    team: str | None
    weight: float
    groups: dict[str, float]
    budget_ratio: float | None = None
    budget_duration: str | None = None
    fallback_budget: tuple[float, float] | None = None  # (ratio, soft share) of a linked BudgetTable row
    stream: float = 0.1
    end_users: int = 0  # size of its end-user pool (0: never sends `user`)
    end_user_p: float = 0.0
    tags: tuple[tuple[tuple[str, ...], float], ...] = (((), 1.0),)
    agent: str = "OpenAI/Python 1.99.9"
    prompt_median: float = 600.0
    completion_median: float = 180.0
    proxy_rate_limit: float = 0.0
    budget_exceeded: float = 0.0
    model_access: float = 0.0
    absurd_max_tokens: float = 0.0  # share of its ABSURD_MAX_TOKENS_GROUP requests asking for 720000 output
    blocked: bool = False
    expired: bool = False
    rpm_limit: int | None = None
    models: tuple[str, ...] = field(default_factory=tuple)

    @property
    def secret(self) -> str:
        return "sk-" + sha256_hex(f"demo-secret:{self.name}")[:22]

    @property
    def token(self) -> str:
        return sha256_hex(self.secret)

    @property
    def masked(self) -> str:
        return "sk-..." + self.secret[-4:]


ORGS = [Org("acme-us", 0.35), Org("acme-eu")]
TEAMS = [
    Team("platform", "acme-us", 0.4, "30d", 0.8),
    Team("data-science", "acme-us", 0.82, "30d", 0.75),
    Team("research", None, 1.1),
    Team("support", "acme-eu"),
    Team("growth", "acme-eu", 0.9, "7d", 0.8),
    Team("ml-infra", "acme-us", 0.5, "1d"),
]
USERS = [
    User("alice"),
    User("bob"),
    User("carol", 1.3, "30d"),
    User("dave"),
    User("erin", 0.6),
    User("frank"),
    User("grace", 0.85, "7d"),
    User("heidi"),
    User("ivan"),
    User("judy"),
    User("svc-batch", role="internal_user_viewer"),
    User("default_user_id", role="proxy_admin"),
]
TEAM_MEMBERS = {
    "platform": ["alice", "frank", "heidi"],
    "data-science": ["bob", "grace"],
    "research": ["dave", "ivan"],
    "support": ["erin", "judy"],
    "growth": ["grace", "heidi"],
    "ml-infra": ["svc-batch", "ivan"],
}

_CHAT = {"gpt-4o": 3, "gpt-4o-mini": 5, "claude-sonnet-4": 3, "gemini-flash": 2}
_P, _F = ("prod",), ("feature:",)
KEYS = [
    Key(
        "chatbot-prod",
        "chatbot-prod",
        "alice",
        "platform",
        20,
        {**_CHAT, "claude-haiku": 2},
        0.3,
        "30d",
        stream=0.6,
        end_users=120,
        end_user_p=0.7,
        tags=((("prod", "feature:chat"), 5), (("prod", "feature:chat", "customer:globex"), 1), ((), 2)),
        agent="support-widget/2.4.1",
    ),
    Key(
        "search-api",
        "search-api",
        "frank",
        "platform",
        12,
        {"text-embedding-3-small": 6, "gpt-4o-mini": 3, "gemini-flash": 2},
        stream=0.05,
        end_users=40,
        end_user_p=0.5,
        tags=((("prod", "feature:search"), 4), ((), 1)),
        agent="python-httpx/0.28.1",
        prompt_median=300,
        completion_median=90,
    ),
    Key(
        "analytics-batch",
        "analytics-batch",
        "bob",
        "data-science",
        10,
        {"claude-opus-4": 1, "gpt-4o": 2, "gemini-pro": 2, "claude-sonnet-4": 2},
        0.9,
        "30d",
        stream=0.0,
        tags=((("batch:nightly",), 3), ((), 1)),
        agent="curl/8.5.0",
        prompt_median=4000,
        completion_median=600,
    ),
    Key(
        "support-bot",
        "support-bot",
        "erin",
        "support",
        8,
        {"gpt-4o-mini": 4, "gemini-flash": 2},
        0.88,
        "30d",
        stream=0.5,
        end_users=60,
        end_user_p=0.8,
        model_access=0.01,
        models=("gpt-4o-mini", "gemini-flash"),
        tags=((("prod", "feature:support"), 3), ((), 1)),
        agent="support-bot/2.4.1",
    ),
    Key(
        "research-notebook",
        "research-notebook",
        "dave",
        "research",
        6,
        {"claude-opus-4": 1, "o4-mini": 2, "gpt-4o": 2, "llama-3.3-70b": 2},
        1.25,
        "7d",
        budget_exceeded=0.08,
        tags=(((), 3), (("experiment:rag-v2",), 1)),
        prompt_median=2500,
    ),
    Key(
        "agent-runner",
        "agent-runner",
        "ivan",
        "research",
        5,
        {"qwen3-coder": 6, "claude-sonnet-4": 3},
        stream=0.7,
        absurd_max_tokens=0.35,
        tags=((("agent:coder",), 1),),
        agent="opencode/0.9.2",
        prompt_median=9000,
        completion_median=700,
    ),
    Key(
        "ingest-ratelimited",
        "ingest-ratelimited",
        "svc-batch",
        "ml-infra",
        7,
        {"gpt-4o-mini": 3, "llama-3.3-70b": 3, "text-embedding-3-small": 2},
        proxy_rate_limit=0.25,
        rpm_limit=60,
        tags=(((), 1),),
        agent="ingest-worker/3.1.0",
    ),
    Key(
        "growth-experiments",
        "growth-experiments",
        "grace",
        "growth",
        4,
        {"gpt-4o": 2, "openrouter-free": 1, "gemini-flash": 2},
        0.95,
        "30d",
        tags=((("env:staging", "feature:onboarding"), 2), ((), 1)),
    ),
    Key(
        "ci-runner-1",
        "ci-runner",
        "heidi",
        "platform",
        3,
        {"gpt-4o-mini": 3, "claude-haiku": 1},
        tags=((("ci",), 1),),
        agent="github-actions/2.0",
    ),
    Key(
        "ci-runner-2",
        "ci-runner",
        "heidi",
        "growth",
        2,
        {"gpt-4o-mini": 3, "openrouter-free": 1},
        tags=((("ci",), 1),),
        agent="github-actions/2.0",
    ),
    Key("no-alias", None, "bob", "data-science", 4, {"gpt-4o": 2, "gemini-flash": 2, "o4-mini": 1}),
    Key(
        "carol-sandbox",
        "carol-sandbox",
        "carol",
        None,
        3,
        {"gpt-4o-mini": 2, "claude-sonnet-4": 1},
        1.4,
        stream=0.3,
        tags=(((), 1),),
        agent="langchain-openai/0.3.28",
    ),
    Key("judy-personal", "judy-personal", "judy", None, 2, {"claude-haiku": 1, "gemini-flash": 1}),
    Key(
        "partner-globex",
        "partner-globex",
        None,
        None,
        3,
        {"gpt-4o": 2, "claude-sonnet-4": 1},
        fallback_budget=(0.85, 0.8),
        tags=((("partner:globex",), 1),),
    ),
    Key(
        "partner-initech",
        "partner-initech",
        None,
        None,
        2,
        {"gpt-4o-mini": 1},
        fallback_budget=(0.4, 0.9),
        tags=((("partner:initech",), 1),),
    ),
    Key("legacy-integration", "legacy-integration", "alice", "support", 2, {"gpt-4o": 1}, blocked=True),
    Key(
        "contractor-2024",
        "contractor-2024",
        "frank",
        "platform",
        2,
        {"gpt-4o-mini": 1, "gemini-flash": 1},
        expired=True,
    ),
]
UNKNOWN_KEY_HASHES = [sha256_hex(f"sk-not-a-real-key-{i}") for i in range(3)]
