"""Indexes LiteLLM does not create that some dashboard panels need on big tables (sql/indexes/*.sql).

`check` reports the missing ones with the statement to create them; nothing here ever creates an index (the
exporter's role cannot). An index counts as present when one on SpendLogs has the same key columns (and, for a
partial index, a predicate on failures), whatever its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from exporter.database import sqlfiles

NAMES = ("spend_logs_spend", "spend_logs_failures")


@dataclass(frozen=True)
class Recommended:
    name: str  # sql/indexes/<name>.sql
    index: str  # the index's own name
    statement: str  # the CREATE INDEX CONCURRENTLY statement, as a DBA would run it
    key: str  # the key columns as pg_get_indexdef prints them
    partial: bool

    @classmethod
    def load(cls, name: str) -> Recommended:
        text = sqlfiles.text(f"indexes/{name}")
        statement = "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
        key = re.search(r'ON "LiteLLM_SpendLogs" (\(.*?\))\s*(WHERE|$)', statement, re.S)
        index = re.search(r'IF NOT EXISTS "([^"]+)"', statement)
        if key is None or index is None:  # a shipped file: only a broken package gets here
            raise ValueError(f'sql/indexes/{name}.sql is not a CREATE INDEX IF NOT EXISTS ... ON "LiteLLM_SpendLogs"')
        return cls(name, index.group(1), statement + ";", key.group(1), "WHERE" in statement)

    def present(self, definitions: list[str]) -> bool:
        for d in definitions:
            if f"USING btree {self.key}" in d and (" WHERE " in d and "failure" in d) == self.partial:
                return True
        return False


def missing(conn: Connection) -> list[Recommended]:
    definitions = [row.definition for row in conn.execute(sqlfiles.statement("spend_logs_indexes"))]
    return [r for r in map(Recommended.load, NAMES) if not r.present(definitions)]
