"""Database access: the read-only engine, the SQL files and LiteLLM schema detection."""
