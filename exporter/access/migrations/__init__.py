"""Alembic migrations for litellm-spend-exporter's own objects (schema litellm_exporter), never LiteLLM's."""
