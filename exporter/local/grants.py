"""`python -m exporter.local.grants`: regenerate sql/grants/*.json (exporter/access/grants.py) by planning every
reader's SQL on a private PostgreSQL with LiteLLM's full schema. Commit the result."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from exporter.access import grants
from exporter.local import litellm_migrations
from exporter.local.postgres import LocalPostgres, resolve_bindir


def main() -> int:
    """Regenerate sql/grants/*.json on a throwaway PostgreSQL with LiteLLM's full schema."""
    with LocalPostgres(resolve_bindir("embedded")) as pg:
        pg.psql("postgres", "-c", "CREATE DATABASE litellm")
        litellm_migrations.apply(pg, "litellm")
        engine = sa.create_engine(pg.url("litellm"))
        with engine.connect() as conn:
            manifests = grants.generate(conn)
        engine.dispose()
    for reader, data in manifests.items():
        target = grants.path(reader)
        target.parent.mkdir(exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != grants.dumps(data):
            target.write_text(grants.dumps(data), encoding="utf-8")
            print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
