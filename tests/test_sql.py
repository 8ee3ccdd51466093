"""The SpendLogs statements share one row block: the aggregate (cold start) and the row path must agree."""

from __future__ import annotations

import pytest

from exporter.database import sqlfiles

pytestmark = pytest.mark.nodb
STATUS_LINES = ("COALESCE(s.status, s.metadata->>'status')", "s.metadata->>'status'")


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
