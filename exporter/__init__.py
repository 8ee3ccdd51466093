"""litellm-spend-exporter: Prometheus metrics from LiteLLM's Postgres spend ledger."""

__version__ = "0.1.0"
