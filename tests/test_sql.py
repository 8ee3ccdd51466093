"""The SQL files: every header lists exactly the binds its statement uses, and the SpendLogs statements share one
row block, kept in one fragment (the aggregate of the cold start and the row path must agree)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from exporter.database import sqlfiles

pytestmark = pytest.mark.nodb


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


def test_the_spend_logs_row_block_has_one_place():
    """The cold start's aggregate and the row path read rows through the same block, kept in one fragment."""
    block = (sqlfiles.sql_dir() / "fragments" / "spend_logs_row_block.sql").read_text()
    nostatus = block
    for old, new in sqlfiles.VARIANTS["nostatus"]:
        nostatus = nostatus.replace(old, new)
    for name in ("spend_logs_rows", "spend_logs_totals"):
        assert block in sqlfiles.text(name) and nostatus in sqlfiles.text(f"{name}_nostatus")
    files = [p for p in sqlfiles.sql_dir().rglob("*.sql") if "fragments" not in p.parts]
    assert not [p.name for p in files if "LATERAL" in p.read_text() and "spend_logs" in p.name], "use the fragment"
    assert "fragments/spend_logs_row_block" not in sqlfiles.names()  # a piece, never run alone


def test_a_variant_is_its_file_with_the_replacements(tmp_path, monkeypatch):
    base = sqlfiles.text("spend_logs_rows")
    variant = sqlfiles.text("spend_logs_rows_nostatus")
    assert variant == base.replace(*sqlfiles.VARIANTS["nostatus"][0]) and variant != base
    (tmp_path / "fragments").mkdir()
    (tmp_path / "plain.sql").write_text("-- Binds: none\n-- Variants: nostatus\nSELECT 1\n")
    (tmp_path / "odd.sql").write_text("-- Binds: none\n-- expand: no_such_thing\nSELECT 1\n")
    monkeypatch.setattr(sqlfiles, "sql_dir", lambda: tmp_path)
    sqlfiles.text.cache_clear()
    try:
        with pytest.raises(ValueError, match="declares the variant nostatus but has no"):
            sqlfiles.text("plain_nostatus")
        with pytest.raises(ValueError, match="unknown `-- expand: no_such_thing`"):
            sqlfiles.text("odd")
    finally:
        sqlfiles.text.cache_clear()


def test_nostatus_variants_never_name_the_status_column():
    for name in ("spend_logs_rows_nostatus", "spend_logs_totals_nostatus"):
        assert "s.status" not in sqlfiles.text(name)


def test_the_aggregate_has_a_column_per_histogram_bucket():
    """spend_logs_totals*.sql count each histogram bucket in its own column (width_bucket values 0..len), as
    generated from the buckets of spec.py."""
    import re

    from exporter.metrics.spec import DURATION_BUCKETS, TTFT_BUCKETS

    for name in ("spend_logs_totals", "spend_logs_totals_nostatus"):
        text = sqlfiles.text(name)
        for prefix, bounds in (("duration", DURATION_BUCKETS), ("ttft", TTFT_BUCKETS)):
            found = re.findall(rf"FILTER \(WHERE {prefix}_bucket = (\d+)\) AS {prefix}_w(\d+)", text)
            assert [(int(a), int(b)) for a, b in found] == [(w, w) for w in range(len(bounds) + 1)], (name, prefix)
