"""Alembic environment: our version table lives in our own schema, next to nothing of LiteLLM's.

Only the online mode runs here (`roles apply`). `roles apply --sql` renders each migration's upgrade() itself
(exporter/access/roles.py `script`), with idempotent version bookkeeping, because DBAs re-run that script after every
LiteLLM upgrade: so every migration must be idempotent too (IF NOT EXISTS, CREATE OR REPLACE, guarded DO
blocks), which tests/test_roles.py checks by running the script twice and after an online apply.
"""

from alembic import context

SCHEMA = "litellm_exporter"
config = context.config


def run_online() -> None:
    connection = config.attributes["connection"]
    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    context.configure(connection=connection, version_table_schema=SCHEMA, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline mode is not supported here: use `litellm-spend-exporter roles apply --sql`")
run_online()
