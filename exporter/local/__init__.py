"""Local mode: `demo`, `--dump`, a throwaway PostgreSQL with LiteLLM's real schema and demo data."""
