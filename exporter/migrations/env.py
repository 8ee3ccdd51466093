"""Alembic environment: our version table lives in our own schema, next to nothing of LiteLLM's."""

from alembic import context

SCHEMA = "litellm_exporter"
config = context.config


def run_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url") or "postgresql+psycopg://",
                      literal_binds=True, version_table_schema=SCHEMA, transactional_ddl=False,
                      dialect_opts={"paramstyle": "named"})
    context.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes["connection"]
    connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    context.configure(connection=connection, version_table_schema=SCHEMA, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
