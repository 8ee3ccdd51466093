"""The SQL files: every header lists exactly the binds its statement uses, and the SpendLogs statements share one
row block (the aggregate of the cold start and the row path must agree)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from exporter.database import sqlfiles

pytestmark = pytest.mark.nodb
STATUS_LINES = ("COALESCE(s.status, s.metadata->>'status')", "s.metadata->>'status'")


def header(name: str) -> dict[str, str]:
    """The file's leading comment as {field: text}: `-- Field: text`, continued on `--   ` lines."""
    fields: dict[str, str] = {}
    current = None
    for line in sqlfiles.text(name).splitlines():
        if not line.startswith("--"):
            break
        if line.startswith("--   ") and current:
            fields[current] += " " + line[5:].strip()
        elif m := re.match(r"-- ([A-Z][^:]*): ?(.*)", line):
            current = m.group(1)
            fields[current] = m.group(2)
    return fields


@pytest.mark.parametrize("name", sqlfiles.names())
def test_the_header_lists_exactly_the_binds_the_statement_uses(name):
    fields = header(name)
    binds = [key for key in fields if key.startswith("Binds")]
    assert binds, f"sql/{name}.sql: the header has no `-- Binds:` line (write `none` if it takes none)"
    listed = set(re.findall(r"(?<![:\w]):([a-z_][a-z0-9_]*)", fields[binds[0]]))
    code = "\n".join(line for line in sqlfiles.text(name).splitlines() if not line.lstrip().startswith("--"))
    used = set(sa.text(code)._bindparams)  # as SQLAlchemy binds them (`::type` casts are not binds)
    assert listed == used, f"sql/{name}.sql: the header lists {sorted(listed)}, the statement uses {sorted(used)}"


def row_block(name: str) -> str:
    text = sqlfiles.text(name)
    start = text.index("-- row block")
    end = text.index("-- end row block")
    block = text[text.index("\n", start) + 1 : end]
    for line in STATUS_LINES:  # the only difference between the variants with and without `status`
        block = block.replace(line, "<status>")
    return block


def test_row_blocks_are_identical():
    names = ["spend_logs_rows", "spend_logs_rows_nostatus", "spend_logs_totals", "spend_logs_totals_nostatus"]
    blocks = {name: row_block(name) for name in names}
    assert len(set(blocks.values())) == 1, "edit the row block in all four files alike"


def test_nostatus_variants_never_name_the_status_column():
    for name in ("spend_logs_rows_nostatus", "spend_logs_totals_nostatus"):
        assert "s.status" not in sqlfiles.text(name)


def test_the_aggregate_has_a_column_per_histogram_bucket():
    """spend_logs_totals*.sql count each histogram bucket in its own column (width_bucket values 0..len)."""
    import re

    from exporter.metrics.spec import DURATION_BUCKETS, TTFT_BUCKETS

    for name in ("spend_logs_totals", "spend_logs_totals_nostatus"):
        text = sqlfiles.text(name)
        for prefix, bounds in (("duration", DURATION_BUCKETS), ("ttft", TTFT_BUCKETS)):
            found = re.findall(rf"FILTER \(WHERE {prefix}_bucket = (\d+)\) AS {prefix}_w(\d+)", text)
            assert [(int(a), int(b)) for a, b in found] == [(w, w) for w in range(len(bounds) + 1)], (name, prefix)
