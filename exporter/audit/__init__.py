"""`audit`: a one-shot report over LiteLLM's spend tables (errors, cost, tokens, latency, attribution, budgets)."""

from exporter.audit.model import KEYS, Options

__all__ = ["KEYS", "Options"]
