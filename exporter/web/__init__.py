"""The HTTP side: /metrics, /healthz, the landing page, TLS and basic auth."""
