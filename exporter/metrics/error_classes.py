"""Error classes: LiteLLM's bounded normalized_error vocabulary, derived for rows that lack it."""

from __future__ import annotations

import re

VOCABULARY = frozenset(
    {
        "429_RATE_LIMIT_EXCEEDED",
        "429_BUDGET_EXCEEDED",
        "429_NO_HEALTHY_DEPLOYMENTS",
        "401_AUTHENTICATION_FAILED",
        "403_MODEL_ACCESS_DENIED",
        "403_PERMISSION_DENIED",
        "400_MISSING_REQUIRED_PARAMETER",
        "400_INVALID_PARAMETER_VALUE",
        "400_CONTEXT_WINDOW_EXCEEDED",
        "400_CONTENT_POLICY_VIOLATION",
        "400_INVALID_REQUEST",
        "404_RESOURCE_NOT_FOUND",
        "408_UPSTREAM_TIMEOUT",
        "500_PROVIDER_CONNECTION_ERROR",
        "503_PROVIDER_OVERLOADED",
        "500_PROVIDER_INTERNAL_ERROR",
        "500_ROUTER_NO_FALLBACK",
        "500_ROUTER_FALLBACK_FAILURE",
        "500_UPSTREAM_PASSTHROUGH",
        "500_UNSUPPORTED_OPERATION",
        "500_INTERNAL_STATE_ERROR",
        "UNCLASSIFIED",
    }
)
# Classes that are not in LiteLLM's vocabulary but matter to an operator: client disconnects.
EXTRA = frozenset({"499_CLIENT_DISCONNECTED"})

# Exception class names (LiteLLM's and the proxy's) -> class, checked before the status code.
_BY_CLASS = {
    "BudgetExceededError": "429_BUDGET_EXCEEDED",
    "RateLimitError": "429_RATE_LIMIT_EXCEEDED",
    "ProxyRateLimitError": "429_RATE_LIMIT_EXCEEDED",
    "AuthenticationError": "401_AUTHENTICATION_FAILED",
    "KeyNotFoundError": "401_AUTHENTICATION_FAILED",
    "PermissionDeniedError": "403_PERMISSION_DENIED",
    "ModelAccessDeniedProxyException": "403_MODEL_ACCESS_DENIED",
    "ContextWindowExceededError": "400_CONTEXT_WINDOW_EXCEEDED",
    "ContentPolicyViolationError": "400_CONTENT_POLICY_VIOLATION",
    "GuardrailRaisedException": "400_CONTENT_POLICY_VIOLATION",
    "BlockedPiiEntityError": "400_CONTENT_POLICY_VIOLATION",
    "UnsupportedParamsError": "400_INVALID_PARAMETER_VALUE",
    "NotFoundError": "404_RESOURCE_NOT_FOUND",
    "Timeout": "408_UPSTREAM_TIMEOUT",
    "APITimeoutError": "408_UPSTREAM_TIMEOUT",
    "MidStreamFallbackError": "500_ROUTER_FALLBACK_FAILURE",
    "APIConnectionError": "500_PROVIDER_CONNECTION_ERROR",
    "ServiceUnavailableError": "503_PROVIDER_OVERLOADED",
    "InternalServerError": "500_PROVIDER_INTERNAL_ERROR",
    "BadGatewayError": "500_PROVIDER_INTERNAL_ERROR",
    "BadRequestError": "400_INVALID_REQUEST",
    "UnprocessableEntityError": "400_INVALID_REQUEST",
    "ProxyModelNotFoundError": "400_INVALID_REQUEST",
    "NotImplementedError": "500_UNSUPPORTED_OPERATION",
    "ClientDisconnected": "499_CLIENT_DISCONNECTED",
}
_BY_CODE = {
    "400": "400_INVALID_REQUEST",
    "401": "401_AUTHENTICATION_FAILED",
    "403": "403_PERMISSION_DENIED",
    "404": "404_RESOURCE_NOT_FOUND",
    "408": "408_UPSTREAM_TIMEOUT",
    "422": "400_INVALID_PARAMETER_VALUE",
    "429": "429_RATE_LIMIT_EXCEEDED",
    "499": "499_CLIENT_DISCONNECTED",
    "500": "500_PROVIDER_INTERNAL_ERROR",
    "502": "500_PROVIDER_INTERNAL_ERROR",
    "503": "503_PROVIDER_OVERLOADED",
    "504": "408_UPSTREAM_TIMEOUT",
}
# Message hints computed in SQL (sql/spend_logs_*.sql, column error_hint) for rows without normalized_error.
_BY_HINT = {
    "budget": "429_BUDGET_EXCEEDED",
    "context": "400_CONTEXT_WINDOW_EXCEEDED",
    "timeout": "408_UPSTREAM_TIMEOUT",
    "connection": "500_PROVIDER_CONNECTION_ERROR",
}
_SHAPE = re.compile(r"^[0-9]{3}_[A-Z_]{3,40}$")


MAX_UNKNOWN_CODES = 20
_admitted: set[str] = set()


def classify(normalized: str | None, code: str | None, cls: str | None, hint: str | None) -> str:
    """One bounded label for a failed row."""
    if normalized:
        if normalized in VOCABULARY or normalized in EXTRA:
            return normalized
        # a newer LiteLLM may add codes: a few well-formed unknown ones pass through, the rest are UNCLASSIFIED
        if _SHAPE.match(normalized) and (normalized in _admitted or len(_admitted) < MAX_UNKNOWN_CODES):
            _admitted.add(normalized)
            return normalized
        return "UNCLASSIFIED"
    if hint in _BY_HINT:
        return _BY_HINT[hint]
    if cls and cls in _BY_CLASS:
        return _BY_CLASS[cls]
    code = (code or "").strip()
    if code in _BY_CODE:
        return _BY_CODE[code]
    if len(code) == 3 and code[0] in "45" and code.isdigit():
        return "500_PROVIDER_INTERNAL_ERROR" if code[0] == "5" else "400_INVALID_REQUEST"
    return "UNCLASSIFIED"
