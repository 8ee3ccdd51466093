"""Hostile database content at scale: NULLs everywhere, wrong JSON types, extreme values and times, duplicate
aliases, 100k model names, 10 kB strings."""

from __future__ import annotations

import logging
import math
import subprocess
from datetime import timedelta

import pytest
from conftest import require_binary
from helpers import by, exporter_for, samples, scrape, total
from psycopg import sql
from spendrows import failure, insert, row
from test_faults import check_ledger, counter_lines, ledger_truth, utcnow

from exporter.metrics import error_classes
from exporter.metrics.labels import MAX_LABEL_LENGTH
from exporter.metrics.spec import DEFAULT_LIMITS, OTHER

INT4_MAX = 2**31 - 1


def promtool_ok(text: str) -> None:
    promtool = require_binary("promtool")
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[:2000]


def exposition(ref) -> str:
    assert ref.refresh(), ref.last_error
    return ref.snapshot.body.decode()


def label_values(s: dict, name: str, label: str) -> set:
    return {dict(labels)[label] for (n, labels) in s if n == name}


def nullable_columns(db) -> list[str]:
    with db.connect() as c:
        return [
            r[0]
            for r in c.execute(
                """SELECT attname FROM pg_attribute WHERE attrelid = '"LiteLLM_SpendLogs"'::regclass AND attnum > 0
               AND NOT attisdropped AND NOT attnotnull ORDER BY attnum"""
            )
        ]


def test_null_in_every_nullable_column(litellm_db):
    """Rows whose every nullable column is NULL (old ones through the cold-start aggregate, recent ones one by
    one) are counted like any other: status NULL without metadata is a success, labels are empty."""
    db, now = litellm_db, utcnow()
    nullable = nullable_columns(db)
    assert {"model_group", "metadata", "status", "team_id", "completionStartTime"} <= set(nullable)
    cols = ["request_id", "call_type", "startTime", "endTime", *nullable]
    stmt = sql.SQL('INSERT INTO "LiteLLM_SpendLogs" ({}) VALUES ({})').format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(sql.Placeholder() * len(cols))
    )
    starts = [now - timedelta(days=2, minutes=i) for i in range(5)] + [
        now - timedelta(minutes=2, seconds=i) for i in range(5)
    ]
    with db.connect() as c:
        c.cursor().executemany(
            stmt,
            [
                [f"null-{i}", "acompletion", t, t + timedelta(seconds=1)] + [None] * len(nullable)
                for i, t in enumerate(starts)
            ],
        )
    insert(db, [row(now - timedelta(minutes=1))])  # and an ordinary row
    ref = exporter_for(db)
    text = exposition(ref)
    s = samples(text)
    check_ledger(db, s)
    assert total(s, "litellm_db_requests_total", requested_model="", status="success") == 10
    assert total(s, "litellm_db_time_to_first_token_seconds_count") == 0
    with db.connect() as c:  # ... and after a refresh that reads them again
        c.cursor().executemany(
            stmt,
            [
                [f"null-late-{i}", "acompletion", now - timedelta(minutes=3), now - timedelta(minutes=3)]
                + [None] * len(nullable)
                for i in range(3)
            ],
        )
    check_ledger(db, scrape(ref))
    check_ledger(db, scrape(exporter_for(db)))
    promtool_ok(text)


JSON_NULL = "json null"  # stands for JSON null (row() reads None as "the default metadata")
WRONG_JSON = [
    JSON_NULL,
    42,
    "a string",
    [1, 2, 3],
    True,
    {"status": 5},
    {"status": {"nested": "failure"}},
    {"error_information": "a string"},
    {"error_information": [1, {"normalized_error": "x"}]},
    {"error_information": 7},
    {"error_information": None},
    {"error_information": {"normalized_error": 429, "error_code": [1], "error_class": {"a": 1}, "error_message": 3.5}},
    {"error_information": {"normalized_error": {"x": "y"}, "error_message": None}},
    {"error_information": {"normalized_error": "999_" + "A" * 50}},
    {"error_information": {"error_code": "4" * 1000, "error_class": "RateLimitError" * 100}},
    {"usage_object": "not an object"},
    {"usage_object": {"cache_read_input_tokens": "12"}},
    {"usage_object": {"cache_read_input_tokens": -5, "cache_creation_input_tokens": 1e300}},
    {"usage_object": {"prompt_tokens_details": [1, 2]}},
    {"usage_object": {"cache_read_input_tokens": 7}},
]


def test_metadata_and_error_information_of_the_wrong_json_type(litellm_db):
    """metadata, error_information and usage_object of every JSON type, as failures and successes, old and recent:
    every row counted, every failure in the bounded error-class vocabulary, the exposition valid."""
    db, now = litellm_db, utcnow()
    rows = []
    for i, meta in enumerate(WRONG_JSON):
        for status, when in (
            ("failure", now - timedelta(minutes=2)),
            ("success", now - timedelta(days=3)),
            ("failure", now - timedelta(days=3, seconds=1)),
            ("success", now - timedelta(minutes=2)),
        ):
            rows.append(row(when - timedelta(seconds=i), status=status, metadata=meta, model_group=f"m{i % 4}"))
    insert(db, rows)
    db.execute(
        """UPDATE "LiteLLM_SpendLogs" SET metadata = 'null'::jsonb WHERE metadata = %s::jsonb""", (f'"{JSON_NULL}"',)
    )
    assert db.scalar("""SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE metadata = 'null'::jsonb""") == 4
    for cache_tokens in (False, True):
        ref = exporter_for(db, spend_logs__cache_tokens=cache_tokens)
        text = exposition(ref)
        s = samples(text)
        check_ledger(db, s)
        classes = set(by(s, "litellm_db_errors_total", "error_class"))
        assert classes <= error_classes.VOCABULARY | error_classes.EXTRA | error_classes._admitted, classes
        assert total(s, "litellm_db_errors_total") == 2 * len(WRONG_JSON)
        if cache_tokens:  # only numbers count: 7 (recent and old), never the string, the negative or 1e300
            assert total(s, "litellm_db_cache_read_input_tokens_total") == 4 * 7
        promtool_ok(text)


def test_huge_token_counts_sum_exactly(litellm_db):
    """Token counts at int4's maximum, 1000 of them, through the aggregate and the row path: exact sums."""
    db, now = litellm_db, utcnow()
    rows = [
        row(now - timedelta(days=1, seconds=i), prompt_tokens=INT4_MAX, completion_tokens=INT4_MAX) for i in range(500)
    ]
    rows += [
        row(now - timedelta(minutes=1, seconds=i % 50), prompt_tokens=INT4_MAX, completion_tokens=INT4_MAX - i)
        for i in range(500)
    ]
    for r in rows:
        r["total_tokens"] = INT4_MAX  # the sum of the two would not fit LiteLLM's int4 column
    insert(db, rows)
    ref = exporter_for(db)
    s = scrape(ref)
    check_ledger(db, s)
    assert total(s, "litellm_db_input_tokens_total") == 1000 * INT4_MAX  # 2.1e12: exact in a float64 too
    insert(db, [row(now, prompt_tokens=INT4_MAX - 1, completion_tokens=1)])
    check_ledger(db, scrape(ref))


def test_impossible_times_are_counted_or_skipped_and_never_stop_the_exporter(litellm_db):
    """endTime before startTime, startTime years ahead (up to the last millisecond of year 9999), 'infinity' and
    year-20000 startTimes, infinite endTime and completionStartTime: the exporter keeps refreshing, values it
    cannot use are clamped or skipped and counted by reason (once per row), running and restarted alike."""
    db, now = litellm_db, utcnow()
    insert(db, [row(now - timedelta(minutes=1), request_id="normal")])
    ref = exporter_for(db)
    scrape(ref)
    insert(
        db,
        [
            row(now - timedelta(minutes=1), request_id="end-before-start", duration=-30.0),
            row(now - timedelta(days=2), request_id="old-end-before-start", duration=-1.0),
            row(now.replace(year=3000), request_id="year-3000", spend=1.0),
            row(now - timedelta(minutes=1), request_id="end-infinite"),
            row(now - timedelta(days=2), request_id="old-end-infinite"),
            row(now - timedelta(minutes=1), request_id="cst-infinite", ttft=0.5),
            row(now - timedelta(minutes=1), request_id="last-ms"),
            row(now - timedelta(minutes=1), request_id="start-infinite"),
            row(now - timedelta(minutes=1), request_id="year-20000"),
            row(now - timedelta(days=3), request_id="start-minus-infinite"),
        ],
    )
    db.execute("""UPDATE "LiteLLM_SpendLogs" SET "endTime" = 'infinity' WHERE request_id LIKE '%end-infinite'""")
    db.execute(
        """UPDATE "LiteLLM_SpendLogs" SET "completionStartTime" = 'infinity' WHERE request_id = 'cst-infinite'"""
    )
    db.execute("""UPDATE "LiteLLM_SpendLogs" SET "startTime" = '9999-12-31 23:59:59.999',
                  "endTime" = '9999-12-31 23:59:59.999' WHERE request_id = 'last-ms'""")
    db.execute("""UPDATE "LiteLLM_SpendLogs" SET "startTime" = 'infinity', "endTime" = 'infinity'
                  WHERE request_id = 'start-infinite'""")
    db.execute("""UPDATE "LiteLLM_SpendLogs" SET "startTime" = '20000-01-01', "endTime" = '20000-01-01'
                  WHERE request_id = 'year-20000'""")
    db.execute("""UPDATE "LiteLLM_SpendLogs" SET "startTime" = '-infinity' WHERE request_id = 'start-minus-infinite'""")
    for _ in range(3):  # the running exporter, refresh after refresh
        s = scrape(ref)
    # the three old rows went in behind the window: only a restart counts them (the documented limit)
    assert total(s, "litellm_db_requests_total") == 1 + 5
    assert by(s, "litellm_db_rows_skipped_total", "reason") == {
        "negative_duration": 1,
        "nonfinite_duration": 1,
        "future_start_time": 2,
        "start_time_out_of_range": 2,
    }
    assert total(s, "litellm_db_request_duration_seconds_count") == 1 + 3  # normal, two future ones, cst
    restarted = scrape(exporter_for(db))
    assert total(restarted, "litellm_db_requests_total") == 1 + 8  # the '-infinity' row too
    assert by(restarted, "litellm_db_rows_skipped_total", "reason") == {
        "negative_duration": 2,
        "nonfinite_duration": 3,
        "future_start_time": 2,
        "start_time_out_of_range": 2,
    }
    # a first token before an infinite end is still a first token; an infinite one is not
    assert total(restarted, "litellm_db_time_to_first_token_seconds_count") == 2
    for (name, _), value in restarted.items():
        assert value == value and abs(value) != float("inf"), name  # no NaN, no infinity anywhere
    promtool_ok(ref.snapshot.body.decode())


def test_two_keys_with_the_same_alias(litellm_db):
    """LiteLLM lets two keys share an alias: the counters sum them under the alias (one series, exact), the key
    budget gauges keep one series per key (the masked key name tells them apart); the exposition stays valid."""
    db, now = litellm_db, utcnow()
    for token, name in (("hash-1", "sk-...1111"), ("hash-2", "sk-...2222")):
        db.execute(
            """INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, key_name, spend, max_budget)
                      VALUES (%s, 'shared-alias', %s, 1, 10)""",
            (token, name),
        )
    insert(
        db,
        [
            row(now - timedelta(minutes=2), api_key="hash-1", spend=1.0),
            row(now - timedelta(minutes=2), api_key="hash-2", spend=2.0),
            row(now - timedelta(days=2), api_key="hash-2", spend=4.0),
        ],
    )
    ref = exporter_for(db)
    text = exposition(ref)
    s = samples(text)
    check_ledger(db, s)
    assert by(s, "litellm_db_spend_usd_total", "api_key_alias") == {"shared-alias": 7.0}
    assert len(label_values(s, "litellm_db_key_spend_usd", "api_key_alias")) == 2
    promtool_ok(text)


def copy_rows(db, rows: list[tuple]) -> None:
    """COPY (request_id, startTime, endTime, model_group, model, spend, prompt_tokens) rows, fast."""
    with db.connect() as c:
        with c.cursor().copy(
            'COPY "LiteLLM_SpendLogs" (request_id, call_type, "startTime", "endTime", model_group, '
            "model, spend, prompt_tokens, completion_tokens, api_key, team_id) FROM STDIN"
        ) as cp:
            for r in rows:
                cp.write_row(r)


@pytest.mark.slow
def test_100k_distinct_model_names(litellm_db):
    """100k distinct model names (old and recent): the exporter keeps running, cardinality stays at the limits
    (the rest summed as __other__), totals are exact, the exposition is valid and stays small."""
    db, now = litellm_db, utcnow()
    rows = []
    for i in range(100_000):
        start = now - (timedelta(days=1, seconds=i) if i % 2 else timedelta(seconds=1 + i % 600))
        rows.append(
            (
                f"r{i}",
                "acompletion",
                start,
                start + timedelta(seconds=1),
                f"group-{i:06d}",
                f"model-{i:06d}",
                round(0.000001 * (i % 1000), 6),
                i % 100,
                1,
                f"key-{i % 2000}",
                f"team-{i % 500}",
            )
        )
    copy_rows(db, rows)
    ref = exporter_for(db, spend_logs__overlap="15m")
    text = exposition(ref)
    s = samples(text)
    limits = DEFAULT_LIMITS
    for label, limit in (
        ("requested_model", limits["requested_model"]),
        ("model", limits["model"]),
        ("api_key_alias", limits["api_key_alias"]),
        ("team_alias", limits["team_alias"]),
    ):
        values = label_values(s, "litellm_db_requests_total", label)
        assert len(values) <= limit + 1 and OTHER in values, (label, len(values))
    assert total(s, "litellm_db_requests_total") == 100_000
    truth = ledger_truth(db)
    assert total(s, "litellm_db_spend_usd_total") == pytest.approx(float(sum(t[2] for t in truth.values())), rel=1e-12)
    assert total(s, "litellm_db_input_tokens_total") == sum(t[3] for t in truth.values())
    assert len(text) < 5_000_000, len(text)
    promtool_ok(text)
    # 10k more new names while running: still bounded, still exact
    copy_rows(
        db,
        [
            (
                f"n{i}",
                "acompletion",
                now,
                now + timedelta(seconds=2),
                f"new-{i}",
                f"new-{i}",
                0.5,
                1,
                1,
                "key-new",
                "team-new",
            )
            for i in range(10_000)
        ],
    )
    s = scrape(ref)
    assert len(label_values(s, "litellm_db_requests_total", "requested_model")) <= limits["requested_model"] + 1
    assert total(s, "litellm_db_requests_total") == 110_000
    assert total(s, "litellm_db_spend_usd_total") == pytest.approx(
        float(sum(t[2] for t in ledger_truth(db).values())), rel=1e-12
    )


BIG = ("q\"uo'te \\ back\nnew\r\nline\ttab ünïcødé 模型 ✓ 🚀 \u202e" * 200)[:10_000]  # 10 kB, every kind of char


def test_10kb_strings_everywhere(litellm_db):
    """10 kB strings with quotes, backslashes, newlines and unicode in every text column that becomes a label
    (models, provider, key, team, user, end user, aliases, error fields): bounded labels, valid exposition,
    exact totals."""
    db, now = litellm_db, utcnow()
    variants = [BIG, BIG[:-1] + "x", "é" * 5000 + BIG[:5000]]  # the first two differ only after 200 characters
    db.execute(
        """INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, key_name, spend)
                  VALUES (%s, %s, %s, 1)""",
        (BIG, BIG, BIG),
    )
    db.execute(
        """INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, spend, max_budget, models)
                  VALUES (%s, %s, 1, 2, '{}')""",
        (BIG, BIG),
    )
    rows = []
    for i, text in enumerate(variants):
        for when in (now - timedelta(minutes=2, seconds=i), now - timedelta(days=1, seconds=i)):
            rows.append(
                row(
                    when,
                    model_group=text,
                    model=text,
                    provider=text,
                    api_key=BIG,
                    team_id=BIG,
                    user=text,
                    end_user=text,
                )
            )
            rows.append(failure(when, model_group=text, normalized=text, code=text, cls=text, message=text))
    insert(db, rows)
    ref = exporter_for(
        db,
        metrics__labels={
            "litellm_db_requests_total": [
                "requested_model",
                "model",
                "api_provider",
                "api_key_alias",
                "team_alias",
                "user",
                "end_user",
                "status",
            ]
        },
    )
    text = exposition(ref)
    s = samples(text)
    check_ledger(db, s)
    longest = max(len(v) for (_, labels) in s for _, v in labels)
    assert longest <= MAX_LABEL_LENGTH
    assert by(s, "litellm_db_errors_total", "error_class") == {"UNCLASSIFIED": 6}
    promtool_ok(text)


def test_skipped_rows_are_counted_and_logged_once_per_reason(litellm_db, caplog):
    """Every clamped value is counted in litellm_db_rows_skipped_total{reason}; the log has one line per reason
    however many rows and refreshes bring more."""
    db, now = litellm_db, utcnow()
    ref = exporter_for(db)
    insert(db, [row(now - timedelta(minutes=5))])
    scrape(ref)
    expected: dict = {}
    with caplog.at_level(logging.WARNING, logger="exporter.spend_logs"):
        for round_ in range(3):
            base = now - timedelta(minutes=3 - round_)
            insert(
                db,
                [row(base, spend=float("nan")) for _ in range(20)]
                + [row(base, spend=-1.0) for _ in range(10)]
                + [row(base, prompt_tokens=-5) for _ in range(10)]
                + [row(base, duration=-2.0) for _ in range(10)]
                + [row(now + timedelta(days=30), spend=0.5) for _ in range(5)],
            )
            for reason, n in (
                ("nonfinite_spend", 20),
                ("negative_spend", 10),
                ("negative_tokens", 10),
                ("negative_duration", 10),
                ("future_start_time", 5),
            ):
                expected[reason] = expected.get(reason, 0) + n
            s = scrape(ref)
            assert by(s, "litellm_db_rows_skipped_total", "reason") == expected
    lines = [r for r in caplog.records if r.name == "exporter.spend_logs"]
    reasons = [getattr(r, "reason", None) for r in lines]
    assert sorted(reasons) == sorted(expected), reasons  # one line per reason, not per row or refresh
    assert total(s, "litellm_db_spend_usd_total") == pytest.approx(
        0.01 * 3 * 20 + 0.01 + 0.5 * 15
    )  # NaN and negative spend count 0


def hostile_values(start, prefix: str) -> list[dict]:
    """Rows with every value the exporter clamps: NaN, +/-Infinity and negative spend, negative tokens, cache
    tokens below 0 and above 1e15 (usage_object), and one ordinary row; `start` and the next 8 seconds."""
    usage = [
        {"usage_object": {"cache_read_input_tokens": -5, "cache_creation_input_tokens": 1e300}},
        {"usage_object": {"prompt_tokens_details": {"cached_tokens": 2e15}}},
    ]
    rows = [
        row(start, spend=float("nan")),
        row(start, spend=float("inf")),
        row(start, spend=float("-inf")),
        row(start, spend=-1.0),
        row(start, prompt_tokens=-5),
        row(start, prompt_tokens=-1, completion_tokens=-7),
        row(start, metadata=usage[0]),
        row(start, metadata=usage[1]),
        row(start, spend=0.25),
    ]
    for i, r in enumerate(rows):
        r["startTime"] += timedelta(seconds=i)
        r["endTime"] += timedelta(seconds=i)
        r["completionStartTime"] += timedelta(seconds=i)
        r["request_id"] = f"{prefix}-{i}"
    return rows


@pytest.mark.parametrize("cache_tokens", [False, True])
def test_clamped_values_count_alike_through_the_aggregate_and_the_row_path(litellm_db, cache_tokens):
    """The same hostile values in OLD rows (before the overlap window: a fresh exporter's cold-start aggregate
    counts them) and RECENT rows (one by one): an exporter that counted every row one by one while running and
    one started afterwards expose the same skipped-value counts and the same counters, with or without cache
    tokens (NULL cache tokens once made the aggregate drop a row's negative tokens)."""
    db, now = litellm_db, utcnow()
    insert(db, [row(now - timedelta(minutes=5), request_id="first")])
    running = exporter_for(db, spend_logs__overlap="30d", spend_logs__cache_tokens=cache_tokens)
    scrape(running)
    insert(db, hostile_values(now - timedelta(days=2), "old") + hostile_values(now - timedelta(minutes=2), "recent"))
    s = scrape(running)  # the old rows are inside its 30-day window: counted one by one, like the recent ones
    fresh = exporter_for(db, spend_logs__cache_tokens=cache_tokens)  # 15m window: the old rows are aggregated
    f = scrape(fresh)
    per_era = {"nonfinite_spend": 3, "negative_spend": 1, "negative_tokens": 3}
    if cache_tokens:
        per_era.update(negative_tokens=4, huge_tokens=2)
    expected = {reason: 2 * n for reason, n in per_era.items()}
    assert by(s, "litellm_db_rows_skipped_total", "reason") == expected
    assert by(f, "litellm_db_rows_skipped_total", "reason") == expected
    assert counter_lines(running.snapshot.body.decode()) == counter_lines(fresh.snapshot.body.decode())
    for got in (s, f):
        assert total(got, "litellm_db_requests_total") == 1 + 2 * 9
        assert total(got, "litellm_db_spend_usd_total") == pytest.approx(0.01 * (1 + 2 * 4) + 2 * 0.25)
        assert total(got, "litellm_db_input_tokens_total") == 100 * (1 + 2 * 7)
        assert total(got, "litellm_db_output_tokens_total") == 20 * (1 + 2 * 8)
        if cache_tokens:  # -5 counts 0, 2e15 and 1e300 count 1e15 each
            assert total(got, "litellm_db_cache_read_input_tokens_total") == 2 * 10**15
            assert total(got, "litellm_db_cache_creation_input_tokens_total") == 2 * 10**15
        for (name, _), value in got.items():
            assert math.isfinite(value), name
