"""Faults with real processes on loopback: PostgreSQL killed or frozen, late, duplicate and deleted rows, schema
upgrades, exporter restarts and replicas."""

from __future__ import annotations

import math
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from conftest import Database, make_login
from helpers import Serve, by, clean_env, exporter_for, http_get, run_cli, samples, scrape, total, wait_for
from spendrows import failure, insert, row

from exporter import app, config
from exporter.local import litellm_migrations
from exporter.local.postgres import LocalPostgres
from exporter.metrics.labels import label_value

INTERVAL = 1.0  # --refresh.interval of every exporter started here
COUNTERS = (
    "litellm_db_requests_total",
    "litellm_db_spend_usd_total",
    "litellm_db_input_tokens_total",
    "litellm_db_output_tokens_total",
    "litellm_db_errors_total",
    "litellm_db_request_duration_seconds",
    "litellm_db_time_to_first_token_seconds",
)
APP = "litellm-spend-exporter"  # application_name of the exporter's sessions


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


# -- a PostgreSQL of one test's own, to kill, freeze and restart ---------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@dataclass
class OwnServer:
    """A dedicated LocalPostgres with LiteLLM's schema in database `litellm`; restarts keep its port and data.

    synchronous_commit is on, so a row committed before a SIGKILL survives crash recovery (the shared test server
    turns it off for speed).
    """

    pg: LocalPostgres
    db: Database
    settings: dict = field(default_factory=dict)

    @classmethod
    def create(cls, bindir, **settings) -> OwnServer:
        settings = {"synchronous_commit": "on", **settings}
        pg = LocalPostgres(bindir, settings=settings).start()
        try:
            with psycopg.connect(pg.admin_conninfo(), autocommit=True) as c:
                c.execute("CREATE DATABASE litellm")
            litellm_migrations.apply(pg, "litellm")
        except BaseException:
            pg.cleanup()
            raise
        return cls(pg, Database(pg, "litellm"), settings)

    def processes(self) -> list[int]:
        pid = self.pg.pid()
        return [pid, *_children(pid)] if pid and _alive(pid) else []

    def crash(self) -> list[int]:
        """SIGKILL the postmaster (as the OOM killer would); returns the server processes it leaves behind."""
        procs = self.processes()
        os.kill(procs[0], signal.SIGKILL)
        return procs

    def wait_gone(self, procs: list[int], timeout: float = 20.0) -> None:
        """Orphaned backends exit once they notice the postmaster died; a restart needs them gone.

        The dead postmaster may stay a zombie until init reaps it, and PostgreSQL refuses to start while the PID
        in its lock files exists: with every process of the old server dead, the stale lock files are removed (what
        an operator does after such a crash).
        """
        wait_for(lambda: not any(_alive(p) for p in procs), timeout=timeout, what="the old server processes to exit")
        if os.path.exists(f"/proc/{procs[0]}"):
            (self.pg.datadir / "postmaster.pid").unlink(missing_ok=True)
            (self.pg.socketdir / f".s.PGSQL.{self.pg.port}.lock").unlink(missing_ok=True)

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster, then every child: a frozen VM or storage stall, as the exporter sees it."""
        pid = self.pg.pid()
        os.kill(pid, signal.SIGSTOP)
        procs = [pid, *_children(pid)]
        for p in procs[1:]:
            os.kill(p, signal.SIGSTOP)
        return procs

    @staticmethod
    def thaw(procs: list[int]) -> None:
        for p in reversed(procs):
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def restart(self, **settings) -> None:
        """Start the server again on the same port and data directory (after a crash or a stop)."""
        old = self.pg
        old._started = False  # after a crash pg_ctl stop has nothing to stop
        self.pg = LocalPostgres(
            old.bindir, basedir=old.basedir, port=old.port, settings={**self.settings, **settings}
        ).start()
        self.db = Database(self.pg, self.db.name)

    def stop(self) -> None:
        self.pg.stop()

    def cleanup(self) -> None:
        for p in self.processes():  # never leave a frozen server behind
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.pg.stop(mode="immediate")
        shutil.rmtree(self.pg.basedir, ignore_errors=True)


@pytest.fixture
def own_server(pg_server):
    server = OwnServer.create(pg_server.bindir)
    yield server
    server.cleanup()


# -- ground truth and exposition ---------------------------------------------------------------------


def ledger_truth(db) -> dict:
    """Exact SQL totals per model_group over the rows present."""
    out = {}
    with db.connect() as conn:
        has_status = conn.execute("""SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public'
                                     AND table_name = 'LiteLLM_SpendLogs' AND column_name = 'status'""").fetchone()[0]
        status = "COALESCE(status, metadata->>'status')" if has_status else "metadata->>'status'"
        for key, requests, failures, spend, inp, outp in conn.execute(
            f"""SELECT COALESCE(model_group, ''), count(*), count(*) FILTER (WHERE {status} = 'failure'),
                           COALESCE(sum(spend::numeric), 0), COALESCE(sum(prompt_tokens), 0),
                           COALESCE(sum(completion_tokens), 0)
                    FROM "LiteLLM_SpendLogs" GROUP BY 1"""
        ):
            out[key] = (requests, failures, Decimal(spend), inp, outp)
    return out


def check_ledger(db, s: dict, truth: dict | None = None) -> bool:
    """Every SpendLogs counter equals SQL over the rows present (raises with the difference otherwise)."""
    truth = ledger_truth(db) if truth is None else truth
    merged: dict = {}  # label values are cut at 200 characters: rows whose names share those are one series
    for key, values in truth.items():
        merged[label_value(key)] = tuple(a + b for a, b in zip(merged.get(label_value(key), (0,) * 5), values))
    truth = merged
    failed = {k: v for k, v in s.items() if dict(k[1]).get("status") == "failure"}
    got = {}
    requests = by(s, "litellm_db_requests_total", "requested_model")
    failures = by(failed, "litellm_db_requests_total", "requested_model")
    spend = by(s, "litellm_db_spend_usd_total", "requested_model")
    inputs = by(s, "litellm_db_input_tokens_total", "requested_model")
    outputs = by(s, "litellm_db_output_tokens_total", "requested_model")
    for model in requests:
        got[model] = (requests[model], failures.get(model, 0), inputs[model], outputs[model])
    want = {k: (r, f, i, o) for k, (r, f, _, i, o) in truth.items()}
    assert got == want, f"exporter {str(got)[:2000]} != ledger {str(want)[:2000]}"
    for model, values in truth.items():  # exact per series; summing series here (in floats) may round
        assert math.isclose(spend[model], float(values[2]), rel_tol=1e-12, abs_tol=1e-12), (model, spend[model])
    rows = sum(t[0] for t in truth.values())
    assert s[("litellm_db_spend_logs_rows_counted", ())] == rows
    assert total(s, "litellm_db_errors_total") == sum(t[1] for t in truth.values())
    assert total(s, "litellm_db_request_duration_seconds_count") == rows
    return True


def counter_lines(text: str) -> list[str]:
    """The exposition lines of every SpendLogs counter and histogram (what must never change on a failure)."""
    return [line for line in text.splitlines() if line.startswith(COUNTERS)]


def get_metrics(srv: Serve, timeout: float = 5.0) -> tuple[float, str]:
    """(seconds the scrape took, body); asserts 200."""
    t0 = time.perf_counter()
    status, body, _ = http_get(srv.base + "/metrics", timeout=timeout)
    elapsed = time.perf_counter() - t0
    assert status == 200, status
    return elapsed, body.decode()


def up(text: str) -> float:
    return samples(text)[("litellm_db_up", ())]


def refreshes(text: str, result: str) -> float:
    return samples(text).get(("litellm_db_refreshes_total", (("result", result),)), 0.0)


def wait_exporter_waiting_on_lock(db, timeout: float = 15.0) -> None:
    """Until the exporter's refresh is blocked mid-query on our lock (wait_event_type Lock)."""

    def waiting():
        with db.connect() as c:
            return (
                c.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = 'Lock'",
                    (APP,),
                ).fetchone()[0]
                > 0
            )

    wait_for(waiting, timeout=timeout, interval=0.02, what="the exporter to block on the SpendLogs lock")


def lock_spend_logs(db) -> psycopg.Connection:
    conn = psycopg.connect(db.conninfo)
    conn.execute('LOCK TABLE "LiteLLM_SpendLogs" IN ACCESS EXCLUSIVE MODE')
    return conn


def seed_rows(now: datetime) -> list[dict]:
    """History for the cold-start aggregate, and recent rows inside the overlap window."""
    return (
        [
            row(
                now - timedelta(days=2, minutes=i), model_group=f"g{i % 3}", spend=0.001 * (i + 1), prompt_tokens=10 + i
            )
            for i in range(40)
        ]
        + [row(now - timedelta(minutes=4, seconds=7 * i), model_group="g0", spend=0.25, ttft=0.2) for i in range(15)]
        + [failure(now - timedelta(minutes=2), model_group="g1")]
    )


# -- PostgreSQL killed ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_postgres_killed_mid_refresh_and_restarted(own_server, record_property):
    """SIGKILL the postmaster while a refresh is blocked mid-query; /metrics keeps the last snapshot with up 0;
    rows written while the exporter is cut off are counted once, within two intervals of the database's return."""
    srv_db = own_server.db
    now = utcnow()
    insert(srv_db, seed_rows(now))
    login = make_login(srv_db)
    with Serve(login.url, "--database.lock-timeout", "60s", interval=f"{INTERVAL:g}s") as srv:
        wait_for(lambda: check_ledger(srv_db, samples(get_metrics(srv)[1])), timeout=20, what="first counts")
        before = counter_lines(get_metrics(srv)[1])

        lock = lock_spend_logs(srv_db)  # the next refresh blocks on it, mid-query
        wait_exporter_waiting_on_lock(srv_db)
        procs = own_server.crash()
        t_kill = time.monotonic()
        lock.close()
        wait_for(lambda: up(get_metrics(srv)[1]) == 0, timeout=10, what="litellm_db_up 0")
        t_down = time.monotonic() - t_kill
        own_server.wait_gone(procs)

        # back, but only on its Unix socket: the exporter (TCP) stays cut off while LiteLLM writes rows
        own_server.restart(listen_addresses="''")
        late = now - timedelta(minutes=3)  # behind the exporter's cursor, inside the overlap window
        insert(
            own_server.db,
            [row(now + timedelta(seconds=5 + i), model_group="g2", spend=0.5) for i in range(5)]
            + [row(late, model_group="g0", spend=1.25), failure(late, model_group="g2")],
        )
        latencies = []
        for _ in range(10):  # still the last good snapshot, served fast
            elapsed, text = get_metrics(srv)
            latencies.append(elapsed)
            assert up(text) == 0 and counter_lines(text) == before
            time.sleep(0.1)
        failures_cut_off = refreshes(text, "failure")
        own_server.stop()

        own_server.restart()  # TCP again, same port
        t_back = time.monotonic()
        outage = t_back - t_kill
        truth = ledger_truth(own_server.db)
        wait_for(
            lambda: up(text := get_metrics(srv)[1]) == 1 and check_ledger(own_server.db, samples(text), truth),
            timeout=15,
            interval=0.05,
            what="counters equal to the ledger again",
        )
        recovery = time.monotonic() - t_back
        for _ in range(3):  # and they stay equal: nothing re-read counts twice
            time.sleep(INTERVAL)
            text = get_metrics(srv)[1]
            check_ledger(own_server.db, samples(text), truth)
        failures = refreshes(text, "failure")
    code, _, err = srv.stop()
    assert code == 0
    record_property("down_after_s", round(t_down, 2))
    record_property("recovery_s", round(recovery, 2))
    record_property("outage_s", round(outage, 2))
    record_property("failed_refreshes", failures)
    print(
        f"\nkill: up 0 after {t_down:.2f}s; outage {outage:.1f}s with {failures:g} failed refreshes; counters exact "
        f"{recovery:.2f}s after the database came back; scrape max {max(latencies) * 1000:.1f} ms"
    )
    assert recovery <= 2 * INTERVAL + 0.5, recovery  # within two refresh intervals (plus polling)
    assert max(latencies) < 1.0
    # backoff: at most one attempt per second (min(interval, 2^n)), not a hot loop
    assert 1 <= failures_cut_off <= failures <= outage / INTERVAL + 2
    assert "refresh failed" in err and "refresh recovered" in err


# -- PostgreSQL frozen ------------------------------------------------------------------------------------

STATEMENT_TIMEOUT, CONNECT_TIMEOUT = 2.0, 2.0


@pytest.mark.slow
def test_postgres_frozen_mid_query(own_server, record_property):
    """SIGSTOP the whole server while a refresh waits mid-query: the server cannot cancel its own statement, so
    the exporter gives up client-side (statement timeout + connect timeout), reports up 0, keeps serving the last
    snapshot fast, and recovers after SIGCONT."""
    db = own_server.db
    now = utcnow()
    insert(db, seed_rows(now))
    login = make_login(db)
    with Serve(
        login.url,
        "--database.statement-timeout",
        f"{STATEMENT_TIMEOUT:g}s",
        "--database.connect-timeout",
        f"{CONNECT_TIMEOUT:g}s",
        "--database.lock-timeout",
        "60s",
        interval=f"{INTERVAL:g}s",
    ) as srv:
        wait_for(lambda: check_ledger(db, samples(get_metrics(srv)[1])), timeout=20, what="first counts")
        before = counter_lines(get_metrics(srv)[1])
        lock = lock_spend_logs(db)
        wait_exporter_waiting_on_lock(db)
        procs = own_server.freeze()
        t_freeze = time.monotonic()
        try:
            latencies, t_down = [], None
            deadline = t_freeze + STATEMENT_TIMEOUT + CONNECT_TIMEOUT + 2 * INTERVAL + 1
            while time.monotonic() < deadline:  # scrapes stay fast and unchanged while the server is frozen
                elapsed, text = get_metrics(srv)
                latencies.append(elapsed)
                assert counter_lines(text) == before
                if up(text) == 0 and t_down is None:
                    t_down = time.monotonic() - t_freeze
                    assert http_get(srv.base + "/healthz", timeout=5)[0] == 503
                time.sleep(0.05)
        finally:
            own_server.thaw(procs)
        t_thaw = time.monotonic()
        lock.close()
        insert(db, [row(now + timedelta(seconds=3), model_group="g2", spend=0.75)])
        truth = ledger_truth(db)
        wait_for(
            lambda: up(text := get_metrics(srv)[1]) == 1 and check_ledger(db, samples(text), truth),
            timeout=15,
            interval=0.05,
            what="recovery after SIGCONT",
        )
        recovery = time.monotonic() - t_thaw
    code, _, err = srv.stop()
    assert code == 0
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    record_property("down_after_s", round(t_down or -1, 2))
    record_property("recovery_s", round(recovery, 2))
    print(
        f"\nfreeze: up 0 after {t_down:.2f}s (limit {STATEMENT_TIMEOUT + CONNECT_TIMEOUT:g}s); {len(latencies)} "
        f"scrapes while frozen, p50 {p50 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms; recovered "
        f"{recovery:.2f}s after SIGCONT"
    )
    assert t_down is not None and t_down <= STATEMENT_TIMEOUT + CONNECT_TIMEOUT + 1.0, t_down
    assert latencies[-1] < 1.0
    assert recovery <= 2 * INTERVAL + 0.5, recovery
    assert "no answer from PostgreSQL" in err and "may be frozen" in err


# -- what LiteLLM and its operators do to the table -------------------------------------------------------


def plus(*truths: dict) -> dict:
    """Ledger totals added up (what a running exporter shows after rows it counted were removed)."""
    out: dict = {}
    for truth in truths:
        for key, values in truth.items():
            out[key] = tuple(a + b for a, b in zip(out.get(key, (0, 0, Decimal(0), 0, 0)), values))
    return out


def test_late_rows_inside_and_beyond_the_overlap_window(litellm_db):
    db, now = litellm_db, utcnow()
    insert(
        db,
        [row(now - timedelta(hours=3, minutes=i), model_group="old") for i in range(5)]
        + [row(now - timedelta(minutes=1), model_group="new") for _ in range(3)],
    )
    ref = exporter_for(db, spend_logs__overlap="5m")
    check_ledger(db, scrape(ref))
    counted = ledger_truth(db)
    # LiteLLM's batch writer parks rows: one 4 minutes behind the newest (inside the 5m window), one 20 minutes
    # behind (beyond it), one in the same minute as rows already counted (that minute is re-read whole)
    insert(
        db,
        [
            row(now - timedelta(minutes=4), model_group="late-in", spend=0.5),
            row(now - timedelta(minutes=1), model_group="new", spend=0.125),
        ],
    )
    inside = {k: v for k, v in ledger_truth(db).items() if k != "old"}
    insert(db, [row(now - timedelta(minutes=20), model_group="late-out", spend=2.0)])
    for _ in range(3):  # counted once, however often the window is re-read
        s = scrape(ref)
        check_ledger(db, s, {**counted, **inside})
    assert total(s, "litellm_db_requests_total", requested_model="late-out") == 0  # the documented limit
    check_ledger(db, scrape(exporter_for(db, spend_logs__overlap="5m")))  # ... counted by the next restart


def test_partitioned_spend_logs_same_request_id_twice(litellm_db):
    """On a partitioned SpendLogs (primary key (request_id, startTime)) one request_id may appear with two
    startTimes: two rows, two requests, each counted once through cold start, the window and re-reads."""
    db, now = litellm_db, utcnow()
    db.execute("""
        CREATE TEMP TABLE shape (LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS);
        ALTER TABLE shape ALTER COLUMN "startTime" TYPE timestamptz,
            ALTER COLUMN "endTime" TYPE timestamptz, ALTER COLUMN "completionStartTime" TYPE timestamptz;
        CREATE TABLE "SpendLogs_new" (LIKE shape INCLUDING DEFAULTS) PARTITION BY RANGE ("startTime");
        ALTER TABLE "SpendLogs_new" ADD PRIMARY KEY (request_id, "startTime");
        DROP TABLE "LiteLLM_SpendLogs" CASCADE;
        ALTER TABLE "SpendLogs_new" RENAME TO "LiteLLM_SpendLogs";
        CREATE TABLE "LiteLLM_SpendLogs_all" PARTITION OF "LiteLLM_SpendLogs"
            FOR VALUES FROM ('2000-01-01') TO ('2100-01-01');
        CREATE INDEX ON "LiteLLM_SpendLogs" ("startTime");
    """)
    insert(
        db,
        [
            row(now - timedelta(days=1), request_id="dup-old", spend=1.0),
            row(now - timedelta(days=1, seconds=1), request_id="dup-old", spend=1.0),
            row(now - timedelta(minutes=2), request_id="dup-new", spend=0.5),
            row(now - timedelta(minutes=2, seconds=30), request_id="dup-new", spend=0.5),
        ],
    )
    ref = exporter_for(db)
    check_ledger(db, scrape(ref))
    insert(
        db,
        [
            row(now - timedelta(minutes=1), request_id="dup-new", spend=0.5),  # a third time, later
            row(now - timedelta(minutes=2), request_id="dup-old", spend=0.25),
        ],
    )  # same minute as counted rows
    for _ in range(2):
        s = scrape(ref)
        check_ledger(db, s)
    assert total(s, "litellm_db_requests_total") == 6
    assert check_ledger(db, scrape(exporter_for(db)))


def test_retention_delete_and_truncate(litellm_db):
    """Nothing is subtracted: deletes and TRUNCATE leave a running exporter's totals, rows written afterwards
    (even into a minute that had as many rows before) are added, and a restart starts from the rows present."""
    db, now = litellm_db, utcnow()
    minute = now.replace(second=0) - timedelta(minutes=2)
    insert(
        db,
        [row(now - timedelta(days=40, hours=i), model_group="old", spend=0.5) for i in range(10)]
        + [row(minute + timedelta(seconds=10 * i), model_group="recent", spend=0.25) for i in range(3)],
    )
    ref = exporter_for(db)
    check_ledger(db, scrape(ref))
    counted = ledger_truth(db)
    before = counter_lines(ref.snapshot.body.decode())

    # LiteLLM's maximum_spend_logs_retention_period: old rows go, the counters stay
    db.execute("""DELETE FROM "LiteLLM_SpendLogs" WHERE "startTime" < now() - interval '30 days'""")
    scrape(ref)
    assert counter_lines(ref.snapshot.body.decode()) == before

    db.execute('TRUNCATE "LiteLLM_SpendLogs"')
    scrape(ref)
    assert counter_lines(ref.snapshot.body.decode()) == before
    # three new rows in the minute that held three counted rows: the per-minute census must still see them
    insert(db, [row(minute + timedelta(seconds=5 + 10 * i), model_group="recent", spend=0.125) for i in range(3)])
    after = ledger_truth(db)
    s = scrape(ref)
    check_ledger(db, s, plus(counted, after))
    insert(db, [row(now, model_group="recent", spend=0.125)])
    check_ledger(db, scrape(ref), plus(counted, ledger_truth(db)))

    # a restarted exporter counts the rows present: Prometheus sees a counter reset (rate() handles it)
    restarted = scrape(exporter_for(db))
    check_ledger(db, restarted)
    assert total(restarted, "litellm_db_requests_total") == 4


OLD_LITELLM = "20250425182129"  # a LiteLLM release before SpendLogs.status (rows carry metadata.status)


def test_litellm_schema_upgrade_while_running(make_litellm_db, pg_server):
    """LiteLLM's remaining ~200 migrations run under a running exporter (read-only role): it keeps counting
    exactly. Once it re-detects the schema (every 5 minutes, here at once) it sees the new `status` column,
    which the role may not read until `roles apply` runs again: it keeps using metadata.status meanwhile (still
    exact), `check` names the missing grant, and after the grant it reads the column."""
    db, now = make_litellm_db(upto=OLD_LITELLM), utcnow()
    insert(
        db,
        [row(now - timedelta(days=1, minutes=i), model_group="g0") for i in range(5)]
        + [failure(now - timedelta(minutes=2), model_group="g1")],
        status_column=False,
    )
    login = make_login(db)
    redetecting = app.build(config.Config.model_validate({"database": {"url": login.url}}))
    redetecting.schema_ttl = 0
    with Serve(login.url, interval=f"{INTERVAL:g}s") as srv:
        wait_for(lambda: check_ledger(db, samples(get_metrics(srv)[1])), timeout=20, what="first counts")
        check_ledger(db, scrape(redetecting))
        before = counter_lines(redetecting.snapshot.body.decode())
        ran = litellm_migrations.apply(pg_server, db.name, litellm_migrations.select(after=OLD_LITELLM))
        db.execute('ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN some_future_column jsonb')  # a later release
        insert(
            db,
            [
                row(now - timedelta(minutes=1), model_group="g1", spend=0.5),
                failure(now - timedelta(seconds=30), model_group="g2"),
            ],
        )
        wait_for(lambda: check_ledger(db, samples(get_metrics(srv)[1])), timeout=10, what="counts after the upgrade")

        check_ledger(db, scrape(redetecting))  # status not granted yet: metadata.status, still exact
        assert not redetecting.caps.status_column and redetecting.caps.has("LiteLLM_SpendLogs", "status")
        assert len(counter_lines(redetecting.snapshot.body.decode())) >= len(before)
        proc = run_cli("check", env=clean_env(DATABASE_URL=login.url))
        assert proc.returncode == 1 and "LiteLLM_SpendLogs.status" in proc.stderr and "roles apply" in proc.stderr

        make_login(db)  # `roles apply` again, as the README says after a LiteLLM upgrade
        check_ledger(db, scrape(redetecting))
        assert redetecting.caps.status_column
        insert(db, [row(now, model_group="g1", spend=0.25)])
        check_ledger(db, scrape(redetecting))
        wait_for(
            lambda: up(text := get_metrics(srv)[1]) == 1 and check_ledger(db, samples(text)),
            timeout=10,
            what="the running exporter, still exact",
        )
    redetecting.stop()
    code, _, err = srv.stop()
    assert code == 0 and ran > 100 and "refresh failed" not in err


def test_exporter_killed_and_restarted(litellm_db, exporter_login):
    """SIGKILL the exporter: nothing is persisted, so the restarted one counts the ledger again, including rows
    written while it was down (new and late ones), and resumes at the ledger totals."""
    db, now = litellm_db, utcnow()
    insert(db, seed_rows(now))
    with Serve(exporter_login.url, interval=f"{INTERVAL:g}s") as first:
        wait_for(lambda: check_ledger(db, samples(get_metrics(first)[1])), timeout=20, what="first counts")
        first.proc.send_signal(signal.SIGKILL)
        assert first.proc.wait(timeout=10) == -signal.SIGKILL
        insert(
            db,
            [
                row(now + timedelta(seconds=2), model_group="g2", spend=0.5),
                row(now - timedelta(minutes=3), model_group="g0", spend=0.75),
            ],
        )
        t0 = time.monotonic()
        with Serve(exporter_login.url, interval=f"{INTERVAL:g}s") as second:
            ready = time.monotonic() - t0
            check_ledger(db, samples(get_metrics(second)[1]))
    print(f"\nexporter restart: serving exact totals {ready:.2f}s after start")


def test_two_replicas_expose_identical_counters(litellm_db, exporter_login):
    """Two exporters on one database, started at different times, with rows arriving (new, late, failures) in
    between: once both have refreshed, every counter and histogram line is identical."""
    db, now = litellm_db, utcnow()
    insert(db, seed_rows(now))
    with Serve(exporter_login.url, interval=f"{INTERVAL:g}s") as a:
        wait_for(lambda: check_ledger(db, samples(get_metrics(a)[1])), timeout=20, what="replica a")
        insert(
            db,
            [
                row(now + timedelta(seconds=1), model_group="g1", spend=0.1 + i / 7, ttft=0.05 * i, duration=0.3 * i)
                for i in range(10)
            ],
        )
        with Serve(exporter_login.url, interval=f"{INTERVAL:g}s") as b:
            insert(
                db,
                [
                    row(now - timedelta(minutes=5), model_group="g2", spend=1 / 3),
                    failure(
                        now + timedelta(seconds=2),
                        model_group="g0",
                        normalized=None,
                        code="500",
                        cls="InternalServerError",
                    ),
                ],
            )
            truth = ledger_truth(db)
            for srv in (a, b):
                wait_for(
                    lambda srv=srv: check_ledger(db, samples(get_metrics(srv)[1]), truth),
                    timeout=15,
                    what="both replicas to catch up",
                )
            lines_a, lines_b = counter_lines(get_metrics(a)[1]), counter_lines(get_metrics(b)[1])
    assert len(lines_a) > 50
    assert lines_a == lines_b
