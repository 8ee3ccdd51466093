"""The metric contract: counters equal SQL over the rows they count, through every kind of change."""

from __future__ import annotations

import json
import math
import subprocess
from datetime import timedelta

import pytest
import spendrows
from conftest import FIXTURES, require_binary
from helpers import by, exporter_for, samples, scrape, total, wait_for
from spendrows import NOW, failure, insert, row

from exporter.collect.refresher import Refresher
from exporter.metrics.spec import OTHER


def assert_matches_ledger(db, s: dict) -> None:
    truth = spendrows.ground_truth(db)
    requests = by(s, "litellm_db_requests_total", "requested_model")
    spend = by(s, "litellm_db_spend_usd_total", "requested_model")
    inputs = by(s, "litellm_db_input_tokens_total", "requested_model")
    failures = {
        k: v
        for k, v in by(
            {k: v for k, v in s.items() if dict(k[1]).get("status") == "failure"},
            "litellm_db_requests_total",
            "requested_model",
        ).items()
    }
    assert set(requests) == set(truth)
    for model, t in truth.items():
        assert requests[model] == t["requests"], model
        assert failures.get(model, 0) == t["failures"], model
        assert spend[model] == pytest.approx(t["spend"], rel=1e-12, abs=1e-12), model
        assert inputs[model] == t["input"], model
    assert total(s, "litellm_db_errors_total") == sum(t["failures"] for t in truth.values())
    assert total(s, "litellm_db_request_duration_seconds_count") == sum(t["requests"] for t in truth.values())


def counter_lines(ref: Refresher) -> list[str]:
    """The exposition lines of every SpendLogs counter and histogram (what two exporters must agree on)."""
    names = (
        "litellm_db_requests_total",
        "litellm_db_spend_usd_total",
        "litellm_db_input_tokens_total",
        "litellm_db_output_tokens_total",
        "litellm_db_errors_total",
        "litellm_db_request_duration_seconds",
        "litellm_db_time_to_first_token_seconds",
    )
    return [line for line in ref.snapshot.body.decode().splitlines() if line.startswith(names)]


# -- the real LiteLLM fixture ------------------------------------------------------------------------


def test_real_litellm_database_matches_its_ground_truth(fixture_db):
    truth = json.loads((FIXTURES / "litellm-real-A.truth.json").read_text())
    s = scrape(exporter_for(fixture_db))
    assert total(s, "litellm_db_requests_total") == truth["total"]["rows"]
    assert by(s, "litellm_db_requests_total", "status") == {k: float(v) for k, v in truth["by_status"].items()}
    assert total(s, "litellm_db_spend_usd_total") == pytest.approx(truth["total"]["spend"], abs=1e-9)
    assert total(s, "litellm_db_input_tokens_total") == truth["total"]["prompt_tokens"]
    assert total(s, "litellm_db_output_tokens_total") == truth["total"]["completion_tokens"]
    assert by(s, "litellm_db_errors_total", "error_class") == {
        k: float(v) for k, v in truth["failures_by_normalized_error"].items()
    }
    for group in truth["per_model_group"]:
        assert total(s, "litellm_db_requests_total", requested_model=group["model_group"]) == group["rows"]
        assert total(s, "litellm_db_spend_usd_total", requested_model=group["model_group"]) == pytest.approx(
            group["spend"], abs=1e-9
        )
    for key in truth["per_key"]:
        alias = key["key_alias"] or key["key_name"] or "__unknown__"
        if key["in_verification_token"]:
            assert total(s, "litellm_db_requests_total", api_key_alias=alias) == key["spend_logs_rows"], alias
    for team in truth["per_team"]:
        alias = team.get("team_alias")
        assert total(s, "litellm_db_team_spend_usd", team_alias=alias) == pytest.approx(team["team_spend"], abs=1e-9), (
            alias
        )
    # every row has a duration; the p50 from the histogram lands in the right bucket
    assert total(s, "litellm_db_request_duration_seconds_count") == 600


# -- hand-made rows through every kind of change -------------------------------------------------------


def test_incremental_late_duplicate_retention_restart(litellm_db):
    db = litellm_db
    old = [row(NOW - timedelta(days=3, minutes=i), model_group=f"m{i % 3}", spend=0.1 * i) for i in range(30)]
    recent = [row(NOW - timedelta(minutes=5 + i), model_group="m0", spend=0.25) for i in range(10)]
    insert(db, old + recent + [failure(NOW - timedelta(minutes=2), model_group="m1")])
    ref = exporter_for(db, spend_logs__overlap="10m")
    s = scrape(ref)
    assert_matches_ledger(db, s)

    # new rows, and a late row behind the newest one but inside the overlap window
    insert(
        db,
        [
            row(NOW - timedelta(seconds=30), model_group="m2", spend=1.5),
            failure(
                NOW - timedelta(seconds=20),
                model_group="m2",
                normalized=None,
                code="503",
                cls="ServiceUnavailableError",
            ),
        ],
    )
    s = scrape(ref)
    insert(db, [row(NOW - timedelta(minutes=4), model_group="m1", spend=2.0)])  # late: behind the cursor
    s = scrape(ref)
    assert_matches_ledger(db, s)
    assert total(s, "litellm_db_errors_total", error_class="503_PROVIDER_OVERLOADED") == 1

    # re-reading the window does not count anything twice
    before = counter_lines(ref)
    scrape(ref)
    assert counter_lines(ref) == before

    # a retention delete of old rows never makes a counter go down
    db.execute("""DELETE FROM "LiteLLM_SpendLogs" WHERE "startTime" < now() - interval '1 day'""")
    scrape(ref)
    assert counter_lines(ref) == before

    # a restarted exporter resumes at the totals of the rows present
    restarted = exporter_for(db, spend_logs__overlap="10m")
    assert_matches_ledger(db, scrape(restarted))


def test_cold_start_aggregate_and_row_path_agree(litellm_db):
    """Totals computed by the SQL aggregate (old rows) equal the same rows counted one by one."""
    rows = []
    for i in range(200):
        start = NOW - timedelta(hours=i * 0.2)
        if i % 7 == 0:
            rows.append(
                failure(
                    start,
                    model_group=f"g{i % 4}",
                    normalized=None if i % 2 else "400_INVALID_REQUEST",
                    code="400",
                    cls="BadRequestError",
                    duration=0.05 * (i % 5),
                )
            )
        else:
            rows.append(
                row(
                    start,
                    model_group=f"g{i % 4}",
                    model=f"m{i % 3}",
                    spend=0.001 * i,
                    duration=[0.05, 0.1, 0.25, 3, 61, 700][i % 6],
                    ttft=0.1 if i % 3 == 0 else None,
                    api_key=f"k{i % 5}",
                    team_id=f"t{i % 2}",
                )
            )
    insert(litellm_db, rows)
    aggregate = exporter_for(litellm_db, spend_logs__overlap="1m")  # nearly everything through the aggregate
    one_by_one = exporter_for(litellm_db, spend_logs__overlap="30d")  # everything through the row path
    scrape(aggregate)
    scrape(one_by_one)
    a, b = counter_lines(aggregate), counter_lines(one_by_one)
    assert a == b
    assert any('le="0.05"' in line for line in a)  # a value exactly on a bucket bound
    assert_matches_ledger(litellm_db, scrape(aggregate))


def test_two_exporters_started_at_different_times_agree(litellm_db):
    insert(litellm_db, [row(NOW - timedelta(hours=h), model_group=f"g{h % 3}", spend=0.5) for h in range(20)])
    first = exporter_for(litellm_db)
    scrape(first)
    insert(litellm_db, [row(NOW - timedelta(seconds=10 + i), model_group="g1", spend=0.3) for i in range(5)])
    scrape(first)
    second = exporter_for(litellm_db)
    scrape(second)
    scrape(first)
    assert counter_lines(first) == counter_lines(second)


class Failing:
    """Wraps a source so that the refresh fails after it has read (like a lost connection)."""

    def __init__(self, source):
        self.source, self.name, self.fail = source, "failing", True

    def collect(self, conn, caps):
        self.source.collect(conn, caps)
        if self.fail:
            raise ConnectionError("connection lost mid-refresh")

    def commit(self):
        self.source.commit()

    def rollback(self):
        self.source.rollback()

    def families(self):
        return []


def test_failed_refresh_changes_nothing(litellm_db):
    insert(litellm_db, [row(NOW - timedelta(minutes=3), spend=1.0)])
    ref = exporter_for(litellm_db)
    scrape(ref)
    before = counter_lines(ref)
    insert(litellm_db, [row(NOW - timedelta(minutes=1), spend=2.0)])
    wrapper = Failing(ref.sources[0])
    ref.sources.append(wrapper)
    assert not ref.refresh()
    s = samples(ref.snapshot.body.decode())
    assert s[("litellm_db_up", ())] == 0
    assert counter_lines(ref) == before  # the last good snapshot, unchanged
    wrapper.fail = False
    assert_matches_ledger(litellm_db, scrape(ref))


def test_status_fallback_and_error_derivation(litellm_db):
    """Rows older than the status column: metadata.status; rows without normalized_error: derived class."""
    insert(
        litellm_db,
        [
            failure(
                NOW - timedelta(minutes=3),
                normalized=None,
                code="400",
                cls="BadRequestError",
                message="This model's maximum context length is 8192 tokens",
            ),
            failure(NOW - timedelta(minutes=3), normalized=None, code="", cls="Timeout", message="Request timed out"),
            failure(NOW - timedelta(minutes=3), normalized="999_SOMETHING_NEW", code="999", cls="X"),
        ],
    )
    litellm_db.execute("""UPDATE "LiteLLM_SpendLogs" SET status = NULL""")
    s = scrape(exporter_for(litellm_db))
    assert by(s, "litellm_db_errors_total", "error_class") == {
        "400_CONTEXT_WINDOW_EXCEEDED": 1,
        "408_UPSTREAM_TIMEOUT": 1,
        "999_SOMETHING_NEW": 1,
    }
    assert total(s, "litellm_db_requests_total", status="failure") == 3


def test_older_litellm_without_status_column(make_litellm_db):
    old = make_litellm_db(upto="20250425182129")
    insert(
        old,
        [row(NOW - timedelta(days=2)), failure(NOW - timedelta(days=2)), row(NOW - timedelta(minutes=1))],
        status_column=False,
    )
    s = scrape(exporter_for(old))
    assert total(s, "litellm_db_requests_total", status="failure") == 1
    assert total(s, "litellm_db_requests_total") == 3


def test_cardinality_is_bounded_and_totals_stay_exact(litellm_db):
    insert(
        litellm_db,
        [row(NOW - timedelta(hours=2, seconds=i), model_group=f"model-{i:03d}", spend=i / 1000) for i in range(60)],
    )
    ref = exporter_for(litellm_db, metrics__limits={"requested_model": 10})
    s = scrape(ref)
    values = by(s, "litellm_db_spend_usd_total", "requested_model")
    assert len(values) == 11 and OTHER in values
    assert sum(values.values()) == pytest.approx(sum(i / 1000 for i in range(60)))
    top = {f"model-{i:03d}" for i in range(50, 60)}  # the ten most expensive keep their own series
    assert set(values) - {OTHER} == top
    insert(litellm_db, [row(NOW - timedelta(seconds=5), model_group="model-new", spend=5.0)])
    values = by(scrape(ref), "litellm_db_spend_usd_total", "requested_model")
    assert "model-new" not in values and values[OTHER] == pytest.approx(sum(i / 1000 for i in range(50)) + 5.0)


def test_label_sets_are_configurable(litellm_db):
    insert(litellm_db, [row(NOW - timedelta(minutes=2), user="alice", end_user="cust-1")])
    ref = exporter_for(litellm_db, metrics__labels={"litellm_db_spend_usd_total": ["user", "end_user"]})
    s = scrape(ref)
    assert ("litellm_db_spend_usd_total", (("end_user", "cust-1"), ("user", "alice"))) in s


HOSTILE = ['quote"d', "new\nline", "back\\slash", "ünïcødé ✓ 模型", "x" * 10_000, "", "{}=,", "'; DROP TABLE x;--"]


def test_hostile_strings_give_valid_exposition(litellm_db, exporter_login):
    promtool = require_binary("promtool")
    insert(
        litellm_db,
        [row(NOW - timedelta(minutes=2), model_group=h, model=h, team_id=h, api_key=h, user=h) for h in HOSTILE],
    )
    litellm_db.execute(
        """INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, key_name, spend)
                          VALUES (%s, %s, 'sk-...1', 1)""",
        (HOSTILE[0], HOSTILE[1]),
    )
    ref = exporter_for(litellm_db)
    text = (scrape(ref), ref.snapshot.body.decode())[1]
    parsed = samples(text)
    assert total(parsed, "litellm_db_requests_total") == len(HOSTILE)
    assert max(len(v) for (_, labels), _ in parsed.items() for _, v in labels) <= 200
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hostile_values_are_clamped_and_counted(litellm_db):
    insert(
        litellm_db,
        [
            row(NOW - timedelta(minutes=2), spend=float("nan")),
            row(NOW - timedelta(minutes=2), spend=float("inf")),
            row(NOW - timedelta(minutes=2), spend=-3.0, prompt_tokens=-5),
            row(NOW - timedelta(minutes=2), duration=-2.0),
            row(NOW + timedelta(days=2), spend=1.0),
            row(NOW - timedelta(days=3), spend=float("nan")),
            row(NOW - timedelta(minutes=2), metadata=["not", "an", "object"], status="failure"),
            row(NOW - timedelta(minutes=2), metadata="a string", status="failure"),
        ],
    )
    s = scrape(exporter_for(litellm_db))
    spend = total(s, "litellm_db_spend_usd_total")
    assert math.isfinite(spend) and spend == pytest.approx(
        1.0 + 0.01 * 3
    )  # the future row, and three rows with a valid spend
    skipped = by(s, "litellm_db_rows_skipped_total", "reason")
    assert skipped == {
        "nonfinite_spend": 3,
        "negative_spend": 1,
        "negative_tokens": 1,
        "negative_duration": 1,
        "future_start_time": 1,
    }
    assert total(s, "litellm_db_errors_total", error_class="UNCLASSIFIED") == 2


# -- folding and replicas beyond the limits ------------------------------------------------------------


def test_two_exporters_agree_beyond_the_limits(litellm_db):
    """Which values keep their own series is decided per day from the rows, not from when an exporter started:
    one started before twelve days of changing top spenders were written and one started after expose the
    same series and values (here 5 model groups kept of 20)."""

    def day_rows(days_ago: int) -> list[dict]:
        out = []
        for i in range(20):  # the ranking shifts every day
            spend = ((i * 7 + days_ago * 3) % 20) / 10
            out.append(row(NOW - timedelta(days=days_ago, minutes=i), model_group=f"m{i:02d}", spend=spend))
        return out

    limits = {"requested_model": 5}
    insert(litellm_db, [r for d in range(12, 6, -1) for r in day_rows(d)])
    first = exporter_for(litellm_db, metrics__limits=limits)
    scrape(first)
    for d in range(6, -1, -1):
        insert(litellm_db, day_rows(d))
        scrape(first)
    insert(litellm_db, [row(NOW - timedelta(seconds=50), model_group="late", spend=0.7)])  # behind the cursor
    scrape(first)
    second = exporter_for(litellm_db, metrics__limits=limits)
    scrape(second)
    assert counter_lines(first) == counter_lines(second)
    values = by(scrape(second), "litellm_db_spend_usd_total", "requested_model")
    assert OTHER in values and 5 < len(values) <= 21  # members changed from day to day; ex-members kept
    assert sum(values.values()) == pytest.approx(sum(t["spend"] for t in spendrows.ground_truth(litellm_db).values()))


def test_a_new_top_spender_gets_its_own_series_from_the_ranking(litellm_db):
    """Five steady values fill the limit; a new value spending the most is counted under __other__ until the
    ranking (days d-8..d-2) sees it, then under its own series; totals stay exact."""
    limits = {"requested_model": 5}
    steady = [
        row(NOW - timedelta(days=d, hours=1), model_group=f"s{i}", spend=1.0) for d in range(9, 2, -1) for i in range(5)
    ]
    big = [row(NOW - timedelta(days=d, hours=1), model_group="big", spend=10.0) for d in (2, 1, 0)]
    insert(litellm_db, steady + big)
    s = scrape(exporter_for(litellm_db, metrics__limits=limits))
    values = by(s, "litellm_db_spend_usd_total", "requested_model")
    assert values["big"] == pytest.approx(10.0)  # today's row only
    assert values[OTHER] == pytest.approx(20.0)  # its rows of the two days before
    assert sum(values.values()) == pytest.approx(35 * 1.0 + 30.0)


# -- the census and PostgreSQL's insert counter -------------------------------------------------------


def inserted(db) -> int:
    with db.connect() as conn:
        return conn.execute("SELECT pg_stat_get_tuples_inserted('\"LiteLLM_SpendLogs\"'::regclass)").fetchone()[0]


def insert_and_wait(db, rows: list[dict]) -> None:
    """Insert rows and wait until PostgreSQL's statistics show them (a backend flushes them when it ends)."""
    before = inserted(db)
    insert(db, rows)
    wait_for(lambda: inserted(db) >= before + len(rows), timeout=15, what="insert statistics")


def test_census_skipped_while_the_insert_counter_explains_every_row(litellm_db, monkeypatch):
    from exporter.collect import spend_logs

    insert_and_wait(litellm_db, [row(NOW - timedelta(minutes=m)) for m in (30, 20, 10)])
    ref = exporter_for(litellm_db)
    scrape(ref)
    source = ref.sources[0]
    census_at = source.census_at
    insert_and_wait(litellm_db, [row(NOW + timedelta(seconds=1))])  # after the cursor: no census needed
    s = scrape(ref)
    assert source.census_at == census_at
    assert total(s, "litellm_db_requests_total") == 4
    # a late row behind the cursor: the counter grew by more than the rows after the cursor -> census
    insert_and_wait(litellm_db, [row(NOW - timedelta(minutes=5), spend=2.0)])
    s = scrape(ref)
    assert source.census_at != census_at and total(s, "litellm_db_requests_total") == 5
    # a late row the statistics never see waits for the periodic census
    insert(litellm_db, [row(NOW - timedelta(minutes=4), spend=3.0)], track_counts=False)
    assert total(scrape(ref), "litellm_db_requests_total") == 5
    monkeypatch.setattr(spend_logs, "CENSUS_MAX_AGE", 0.0)
    s = scrape(ref)
    assert total(s, "litellm_db_requests_total") == 6
    assert_matches_ledger(litellm_db, s)


def test_each_sql_statement_is_timed_and_its_failure_named(litellm_db):
    """litellm_db_query_* carry one series per statement file in sql/; a statement that fails (here: a lock
    timeout on a table LiteLLM holds locked) reads 0, the others keep their last success."""
    insert(litellm_db, [row(NOW - timedelta(minutes=m)) for m in range(3)] + [row(NOW - timedelta(days=2))])
    litellm_db.execute("INSERT INTO \"LiteLLM_TeamTable\" (team_id, team_alias) VALUES ('t1', 'a'), ('t2', 'b')")
    ref = exporter_for(litellm_db, database__lock_timeout="1s")
    s = scrape(ref)
    for name in (
        "spend_logs_high_water",
        "spend_logs_next_start",
        "spend_logs_totals",
        "spend_logs_rows",
        "spend_logs_census",
        "team_names",
        "key_budgets",
    ):
        assert s[("litellm_db_query_success", (("query", name),))] == 1.0, name
        assert s[("litellm_db_query_duration_seconds", (("query", name),))] > 0, name
    assert s[("litellm_db_rows_read_total", (("query", "team_names"),))] == 2
    assert s[("litellm_db_rows_read_total", (("query", "spend_logs_rows"),))] == 3
    with litellm_db.connect() as locker:
        locker.execute("BEGIN")
        locker.execute('LOCK TABLE "LiteLLM_TeamTable" IN ACCESS EXCLUSIVE MODE')
        assert not ref.refresh()
        locker.execute("ROLLBACK")
    s = samples(ref.snapshot.body.decode())
    assert s[("litellm_db_query_success", (("query", "team_names"),))] == 0.0
    assert s[("litellm_db_query_success", (("query", "spend_logs_high_water"),))] == 1.0
    assert s[("litellm_db_up", ())] == 0.0
    assert ref.refresh()
    assert samples(ref.snapshot.body.decode())[("litellm_db_query_success", (("query", "team_names"),))] == 1.0


def test_the_cold_start_gives_the_same_counters_whatever_spans_it_reads_the_history_in(litellm_db):
    """The history is aggregated span by span (adapted to statement_timeout); where the spans end changes no
    value and no folding decision."""
    insert(
        litellm_db,
        [
            row(NOW - timedelta(days=d, hours=h), model_group=f"g{(d + h) % 7}", spend=0.1 * h + d, duration=0.05 * h)
            for d in range(20)
            for h in (0, 5, 13)
        ]
        + [failure(NOW - timedelta(days=d, hours=2), model_group=f"g{d % 3}") for d in range(20)],
    )
    limits = {"requested_model": 4}
    one_span = exporter_for(litellm_db, metrics__limits=limits)
    one_span.sources[0]._history_days = 60.0
    many_spans = exporter_for(litellm_db, metrics__limits=limits)
    many_spans.sources[0]._history_days = 1 / 24
    scrape(one_span)
    scrape(many_spans)

    def spans(ref) -> float:  # one probe of the next start per span, and one that finds nothing
        return (
            samples(ref.snapshot.body.decode())[("litellm_db_rows_read_total", (("query", "spend_logs_next_start"),))]
            - 1
        )

    assert counter_lines(one_span) == counter_lines(many_spans)
    assert spans(one_span) == 1 and spans(many_spans) >= 5
    truth = spendrows.ground_truth(litellm_db)
    s = scrape(many_spans)
    assert total(s, "litellm_db_requests_total") == sum(t["requests"] for t in truth.values())
    assert total(s, "litellm_db_spend_usd_total") == pytest.approx(sum(t["spend"] for t in truth.values()))


@pytest.mark.nodb
def test_cold_start_spans_follow_the_statement_timeout():
    from exporter.collect.spend_logs import _next_span

    assert _next_span(7.0, 10.0, 30.0) == 3.5  # over a quarter of the timeout: halve
    assert _next_span(7.0, 1.0, 30.0) == 14.0  # under a sixteenth: double
    assert _next_span(7.0, 3.0, 30.0) == 7.0
    assert _next_span(1 / 24, 100.0, 30.0) == 1 / 24 and _next_span(60.0, 0.0, 30.0) == 60.0
