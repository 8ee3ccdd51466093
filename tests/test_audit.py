"""`audit`: seed 000's findings from LiteLLM's tables alone, the real fixture's ground truth, every input and format."""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
import zlib
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES, make_login, remove_logins, require, require_binary
from helpers import clean_env, run_cli

from exporter.audit import KEYS, Options
from exporter.audit.command import audit, render
from exporter.audit.sections import sections
from exporter.config import DatabaseConfig
from exporter.local.demodata import seed000

FORMATS = ("text", "md", "html", "json")


def run_audit(url: str, **opts) -> dict:
    return audit(DatabaseConfig(url=url), Options(**opts))


def rendered_ok(report: dict) -> dict[str, str]:
    out = {fmt: render(report, fmt) for fmt in FORMATS}
    assert json.loads(out["json"])["requests"] == report["requests"]
    assert out["html"].startswith("<!doctype html>") and "<svg" in out["html"]
    for resource in ("src=", "href=", "<link", "<script", "url(", "@import"):  # self-contained: nothing to fetch
        assert resource not in out["html"], resource
    assert "LiteLLM spend audit" in out["text"] and out["md"].startswith("# LiteLLM spend audit")
    return out


@pytest.fixture
def seed_db(litellm_db):
    seed000.load(litellm_db.conninfo)
    return litellm_db


# Expected values straight from the generator's rows (never from what the audit printed) ---------------------------
# LiteLLM's normalized_error for the exception classes of the seed's rows that carry none (an older LiteLLM)
LITELLM_CLASS = {
    "BadRequestError": "400_INVALID_REQUEST",
    "RateLimitError": "429_RATE_LIMIT_EXCEEDED",
    "ServiceUnavailableError": "503_PROVIDER_OVERLOADED",
}


def percentile_cont(values: list[float], q: float) -> float | None:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    v = sorted(values)
    if not v:
        return None
    pos = q * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def seconds(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds()


def error_class(row: dict) -> str:
    info = row["metadata"].obj["error_information"]
    return info.get("normalized_error") or LITELLM_CLASS[info["error_class"]]


def key_alias(row: dict) -> str:
    return next(k for k in seed000.KEYS if seed000.token(k) == row["api_key"])


def top_share(rows: list[dict], k: int) -> float:
    spends = sorted((r["spend"] for r in rows), reverse=True)
    return sum(spends[:k]) / sum(spends)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_seed000_every_finding_with_its_numbers_through_the_exporter_role(seed_db):
    login = make_login(seed_db)
    try:
        r = run_audit(login.url)
    finally:
        remove_logins(seed_db)
    assert tuple(r) == KEYS
    assert (r["requests"], r["failures"]) == (330, 106) and round(r["error_rate"] * 100, 1) == 32.1
    assert r["errors_by_class"]["400_CONTEXT_WINDOW_EXCEEDED"] == 91
    assert sum(r["errors_by_class"].values()) == 106
    failing = {m["model_group"]: m for m in r["always_failing_models"]}
    assert set(failing) == {"openrouter/free", "google/gemma-4-26b-a4b-it:free"}
    assert (failing["openrouter/free"]["requests"], failing["openrouter/free"]["failures"]) == (91, 91)
    assert failing["openrouter/free"]["dominant_error"] == "400_CONTEXT_WINDOW_EXCEEDED"
    assert (
        failing["google/gemma-4-26b-a4b-it:free"]["failures"],
        failing["google/gemma-4-26b-a4b-it:free"]["dominant_error"],
    ) == (9, "400_INVALID_REQUEST")  # classified from the error class (no normalized_error)
    ctx = r["context_overflow"]
    assert (ctx["failures"], ctx["output_budget_too_large"], ctx["prompt_too_long"]) == (91, 91, 0)
    assert ctx["largest_requested_output"] == 720_000 and ctx["context_limit"] == 262_144
    assert 300 < ctx["max_input_tokens_of_output_budget_failures"] < 400
    cc = r["cost_concentration"]
    assert round(r["spend_usd"], 4) == 2.8577 and round(cc["top_2_share"], 2) == 0.52
    assert [round(t["spend_usd"], 4) for t in cc["top_requests"][:2]] == [1.1086, 0.3773]
    assert [t["input_tokens"] for t in cc["top_requests"][:2]] == [221_266, 75_101]
    assert cc["top_requests"][0]["model"] == "openrouter/anthropic/claude-opus-4.6"
    assert (r["tokens"]["input"], r["tokens"]["output"]) == (9_745_108, 100_371)
    assert round(r["tokens"]["input_output_ratio"]) == 97
    lat = r["latency_seconds"]
    assert [round(lat[k], 1) for k in ("p50", "p95", "p99", "max")] == [3.2, 30.1, 69.6, 223.7]
    assert lat["slowest"][0]["model"] == "openrouter/minimax/minimax-m2.5:free"
    assert (lat["slowest"][0]["input_tokens"], lat["slowest"][0]["output_tokens"]) == (20_619, 86)
    att = r["attribution"]
    assert round(1 - att["no_end_user"]["share"], 3) == 0.006  # an end user on 0.6% of requests
    assert att["no_session"]["share"] == 1.0 and att["reusable_session_ids"] == 0
    assert att["rows_with_session_id"] == 330 and att["distinct_session_ids"] == 330
    assert att["no_tags"]["share"] == 1.0  # only LiteLLM's own User-Agent tags
    assert (
        r["pricing"]["unpriced_requests"] == 0 and "openrouter/minimax/minimax-m2.5:free" in r["pricing"]["free_models"]
    )
    ids = [f["id"] for f in r["findings"]]
    assert ids[:3] == ["context_output_budget", "always_failing", "attribution"]
    assert {"cost_concentration", "token_ratio", "latency_tail"} <= set(ids)
    assert r["findings"][0]["evidence"]["largest_requested_output"] == 720_000
    out = rendered_ok(r)
    for needle in ("32.1%", "720,000", "52.0%", "97:1", "223.7 s", "openrouter/free", "Cap max_tokens"):
        assert needle in out["text"], needle


def test_seed000_distributions_attribution_tokens_and_classes_match_the_generators_rows(seed_db):
    rows = seed000.rows()
    r = run_audit(seed_db.url)
    n, total = len(rows), sum(x["spend"] for x in rows)
    cc = r["cost_concentration"]
    assert cc["top_1pct_requests"] == math.ceil(n / 100)
    assert cc["top_1pct_share"] == pytest.approx(top_share(rows, math.ceil(n / 100)), rel=1e-9)
    assert cc["top_10_share"] == pytest.approx(top_share(rows, 10), rel=1e-9)
    by_group = defaultdict(list)
    for x in rows:
        by_group[x["model_group"]].append(x)
    models = {m["model_group"]: m for m in r["models"]}
    assert set(models) == set(by_group)
    for group, grows in by_group.items():
        m, billed = models[group], [x["spend"] for x in grows if x["spend"] > 0]
        cost = m["cost_per_request_usd"]
        assert cost["billed_requests"] == len(billed), group
        for q, key in ((0.5, "p50"), (0.99, "p99")):
            expected = percentile_cont(billed, q)
            assert cost[key] == (pytest.approx(expected, rel=1e-9) if billed else None), (group, key)
        failed = Counter(error_class(x) for x in grows if x["status"] == "failure")
        assert m["errors_by_class"] == dict(failed), group
    streamed = [
        seconds(x["startTime"], x["completionStartTime"]) for x in rows if x["completionStartTime"] != x["endTime"]
    ]
    assert streamed and r["ttft_seconds"]["requests"] == len(streamed)
    for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
        assert r["ttft_seconds"][key] == pytest.approx(percentile_cont(streamed, q), abs=1e-6), key
    att = r["attribution"]
    no_team = [x for x in rows if not x["team_id"]]
    assert att["no_team"]["requests"] == len(no_team) and att["no_team"]["share"] == pytest.approx(len(no_team) / n)
    assert att["no_team"]["spend_share"] == pytest.approx(sum(x["spend"] for x in no_team) / total, rel=1e-9)
    no_user = [x for x in rows if not x["end_user"]]
    assert att["no_end_user"]["spend_share"] == pytest.approx(sum(x["spend"] for x in no_user) / total, rel=1e-9)
    assert att["no_tags"]["spend_share"] == 1.0 and att["no_session"]["spend_share"] == 1.0  # no row has either
    tokens = r["tokens"]
    acc = defaultdict(lambda: [0, 0, 0])
    for x in rows:
        a = acc[key_alias(x)]
        a[0], a[1], a[2] = a[0] + x["prompt_tokens"], a[1] + x["completion_tokens"], a[2] + 1
    assert {k["name"]: (k["input_tokens"], k["output_tokens"], k["requests"]) for k in tokens["by_key"]} == {
        k: tuple(v) for k, v in acc.items()
    }
    ratios = {("key", k): v[0] / v[1] for k, v in acc.items()}
    for group, grows in by_group.items():
        out_tokens = sum(x["completion_tokens"] for x in grows)
        if out_tokens:
            ratios["model_group", group] = sum(x["prompt_tokens"] for x in grows) / out_tokens
    assert {(f["scope"], f["name"]) for f in tokens["flagged"]} == {k for k, v in ratios.items() if v > 20}
    assert tokens["flagged"] and all(
        f["input_output_ratio"] == pytest.approx(ratios[f["scope"], f["name"]]) for f in tokens["flagged"]
    )

    out = rendered_ok(r)
    text, md, html = flat(out["text"]), out["md"], out["html"]
    for f in r["findings"]:  # what to do, in every format
        assert flat(f["action"]) in text and f["action"] in md, f["id"]
        assert f["action"].replace("'", "&#x27;") in html, f["id"]
    for group, grows in by_group.items():  # each model's error classes, in every format
        for cls, count in Counter(error_class(x) for x in grows if x["status"] == "failure").items():
            assert f"{cls} {count}" in out["text"] and f"{cls} {count}" in md and f"{cls} {count}" in html, group
    lines = out["text"].splitlines()
    assert max(len(line) for line in lines) <= 120
    for section in sections(r):  # no header cut (the slowest requests' last column read 'durati')
        for table in section.tables:
            if table.rows:
                assert re.search(r"\s{2,}".join(re.escape(h) for h in table.headers), out["text"]), table.headers
    assert any(line.rstrip().endswith("duration") for line in lines)
    assert any(line.rstrip().endswith(" 223.7 s") for line in lines)


def test_top_n_does_not_change_the_top_2_and_top_10_shares(seed_db):
    rows = seed000.rows()
    r = run_audit(seed_db.url, top=3)
    cc = r["cost_concentration"]
    assert len(cc["top_requests"]) == 3
    assert cc["top_2_share"] == pytest.approx(top_share(rows, 2), rel=1e-9)
    assert cc["top_10_share"] == pytest.approx(top_share(rows, 10), rel=1e-9)
    assert cc["top_1pct_share"] == pytest.approx(top_share(rows, math.ceil(len(rows) / 100)), rel=1e-9)
    finding = next(f for f in r["findings"] if f["id"] == "cost_concentration")
    assert finding["evidence"]["top_10_share"] == cc["top_10_share"]


def test_every_always_failing_deployment_of_a_healthy_group(seed_db):
    """Two deployments of openai/gpt-4.1-mini fail on every request; the group itself is healthy (30 successes)."""
    seed_db.execute("""
        CREATE TEMP TABLE extra AS SELECT * FROM "LiteLLM_SpendLogs"
          WHERE model_group = 'openai/gpt-4.1-mini' ORDER BY request_id LIMIT 13;
        UPDATE extra SET request_id = 'dead-' || request_id, spend = 0, prompt_tokens = 0, completion_tokens = 0,
          total_tokens = 0, status = 'failure',
          model = CASE WHEN request_id IN (SELECT request_id FROM extra ORDER BY request_id LIMIT 6)
                       THEN 'openrouter/dead/a' ELSE 'openrouter/dead/b' END,
          metadata = metadata || jsonb_build_object('status', 'failure', 'error_information', jsonb_build_object(
            'error_code', '404', 'error_class', 'NotFoundError', 'error_message', 'No endpoints found'));
        INSERT INTO "LiteLLM_SpendLogs" SELECT * FROM extra;""")
    r = run_audit(seed_db.url)
    deployments = {
        tuple(m["models"]): (m["level"], m["model_group"], m["requests"], m["failures"], m["dominant_error"])
        for m in r["always_failing_models"]
        if m["level"] == "model"
    }
    assert deployments == {
        ("openrouter/dead/a",): ("model", "openai/gpt-4.1-mini", 6, 6, "404_RESOURCE_NOT_FOUND"),
        ("openrouter/dead/b",): ("model", "openai/gpt-4.1-mini", 7, 7, "404_RESOURCE_NOT_FOUND"),
    }
    groups = {m["model_group"] for m in r["always_failing_models"] if m["level"] == "model_group"}
    assert groups == {"openrouter/free", "google/gemma-4-26b-a4b-it:free"}  # their deployments are not repeated


def test_filters_apply_to_the_window_and_to_last(seed_db):
    rows = [x for x in seed000.rows() if x["model_group"] == seed000.GEMMA]
    r = run_audit(seed_db.url, model=seed000.GEMMA)
    first, last = min(x["startTime"] for x in rows), max(x["startTime"] for x in rows)
    assert (r["window"]["first_request"], r["window"]["last_request"]) == (
        first.isoformat() + "Z",
        last.isoformat() + "Z",
    )
    assert r["window"]["hours"] == pytest.approx(seconds(first, last) / 3600, abs=1e-3)
    # --last follows the newest request of the filtered rows, not of the whole ledger
    last_2h = run_audit(seed_db.url, model=seed000.GEMMA, last=2 * 3600.0)
    end = last + timedelta(milliseconds=1)  # [end - 2h, end)
    in_2h = [x for x in rows if end - timedelta(hours=2) <= x["startTime"] < end]
    assert 0 < len(in_2h) < len(rows)
    assert last_2h["requests"] == len(in_2h) and last_2h["window"]["last_request"] == last.isoformat() + "Z"
    key_rows = [x for x in seed000.rows() if key_alias(x) == "batch-replay"]
    by_key = run_audit(seed_db.url, key="batch-replay")
    assert by_key["window"]["first_request"] == min(x["startTime"] for x in key_rows).isoformat() + "Z"


def test_filters_windows_and_a_window_of_only_failures(seed_db):
    r = run_audit(seed_db.url, model="openrouter/free")
    assert (r["requests"], r["failures"], r["error_rate"], r["spend_usd"]) == (91, 91, 1.0, 0)
    assert r["cost_concentration"]["top_2_share"] is None and r["tokens"]["input_output_ratio"] is None
    assert r["always_failing_models"][0]["model_group"] == "openrouter/free"
    rendered_ok(r)
    assert run_audit(seed_db.url, key="batch-replay")["requests"] == 30
    assert run_audit(seed_db.url, team="assistant")["requests"] == 300
    last = run_audit(seed_db.url, last=3600.0)
    assert 0 < last["requests"] < 330
    first = run_audit(seed_db.url, until=seed000.END - timedelta(hours=20))
    assert first["requests"] + run_audit(seed_db.url, since=seed000.END - timedelta(hours=20))["requests"] == 330


def test_empty_window_renders(seed_db):
    r = run_audit(seed_db.url, since=datetime(2001, 1, 1), until=datetime(2001, 1, 2))
    assert (r["requests"], r["failures"], r["error_rate"], r["findings"]) == (0, 0, None, [])
    assert r["latency_seconds"]["p50"] is None and r["models"] == []
    rendered_ok(r)


def test_pricing_gaps_and_budgets(seed_db):
    # a paid model logged at $0 for one request (LiteLLM without a price for the deployment)
    seed_db.execute("""UPDATE "LiteLLM_SpendLogs" SET spend = 0 WHERE request_id = (SELECT request_id FROM
                       "LiteLLM_SpendLogs" WHERE model = 'openrouter/openai/gpt-4.1-mini'
                       ORDER BY request_id LIMIT 1)""")
    seed_db.execute(
        """UPDATE "LiteLLM_VerificationToken" SET max_budget = spend * 1.1 WHERE key_alias = 'llm-router'"""
    )
    r = run_audit(seed_db.url)
    assert (
        r["pricing"]["unpriced_requests"] == 1
        and r["pricing"]["models"][0]["model"] == "openrouter/openai/gpt-4.1-mini"
    )
    assert r["pricing"]["models"][0]["never_priced"] is False
    (b,) = r["budgets"]["entities"]
    assert (b["kind"], b["name"], round(b["used"], 2)) == ("key", "llm-router", 0.91)
    # the burn rate divides the key's spend by the ~21 h the ledger covers (not by the 7 days before its end)
    rows = seed000.rows()
    unpriced = min((x for x in rows if x["model"] == "openrouter/openai/gpt-4.1-mini"), key=lambda x: x["request_id"])
    spend = sum(x["spend"] for x in rows if key_alias(x) == "llm-router" and x is not unpriced)
    first, last = min(x["startTime"] for x in rows), max(x["startTime"] for x in rows)
    days = (seconds(first, last) + 0.001) / 86400
    assert r["budgets"]["burn_window"]["days"] == pytest.approx(days) and days < 1
    assert b["burn_usd_per_day"] == pytest.approx(spend / days, rel=1e-9)
    assert b["days_left"] == pytest.approx(b["remaining_usd"] / b["burn_usd_per_day"], rel=1e-9)
    assert b["days_left"] < 0.1 and not b["resets_first"]  # ~2 h left at ~2.4 USD/day, no reset
    assert {"pricing", "budgets"} <= {f["id"] for f in r["findings"]}


def test_a_budget_that_resets_before_it_runs_out_is_no_finding(seed_db):
    seed_db.execute(
        """UPDATE "LiteLLM_VerificationToken" SET max_budget = spend * 1.1,
                         budget_reset_at = %s WHERE key_alias = 'llm-router'""",
        (seed000.END + timedelta(minutes=10),),
    )  # the burn rate needs ~2 h to spend the rest
    r = run_audit(seed_db.url)
    (b,) = r["budgets"]["entities"]
    assert b["resets_first"] and 0 < b["days_left"] < 1
    assert "budgets" not in {f["id"] for f in r["findings"]}
    seed_db.execute("""UPDATE "LiteLLM_VerificationToken" SET max_budget = spend WHERE key_alias = 'llm-router'""")
    (finding,) = [f for f in run_audit(seed_db.url)["findings"] if f["id"] == "budgets"]  # exhausted: reset or not
    assert "exhausted until its reset at 2026-11-20T09:10:00Z" in finding["summary"]


def test_a_paid_model_never_priced_is_a_gap_and_only_free_names_are_free(seed_db):
    """x-ai/grok-4-fast logged at $0 on every request (no price in LiteLLM): a pricing gap, not a free model; the
    `:free` slugs, never priced either, stay free."""
    seed_db.execute("""UPDATE "LiteLLM_SpendLogs" SET spend = 0 WHERE model = 'openrouter/x-ai/grok-4-fast'""")
    rows = [x for x in seed000.rows() if x["model"] == "openrouter/x-ai/grok-4-fast"]
    pricing = run_audit(seed_db.url)["pricing"]
    (grok,) = pricing["models"]
    assert (grok["model"], grok["never_priced"], grok["priced_requests"]) == ("openrouter/x-ai/grok-4-fast", True, 0)
    assert grok["unpriced_requests"] == len(rows) == pricing["unpriced_requests"]
    assert grok["unpriced_tokens"] == sum(x["prompt_tokens"] + x["completion_tokens"] for x in rows)
    free = {x["model"] for x in seed000.rows() if x["status"] == "success" and x["spend"] == 0}
    free -= {"openrouter/x-ai/grok-4-fast"}
    assert free and all(m.endswith(":free") for m in free)
    assert set(pricing["free_models"]) == free


def test_real_fixture_agrees_with_its_ground_truth(fixture_db):
    truth = json.loads((FIXTURES / "litellm-real-A.truth.json").read_text())
    r = run_audit(fixture_db.url)
    assert (r["requests"], r["failures"]) == (truth["spend_logs_rows"], truth["by_status"]["failure"])
    assert r["errors_by_class"] == truth["failures_by_normalized_error"]
    assert r["spend_usd"] == pytest.approx(truth["total"]["spend"], abs=1e-9)
    assert (r["tokens"]["input"], r["tokens"]["output"]) == (
        truth["total"]["prompt_tokens"],
        truth["total"]["completion_tokens"],
    )
    for k, v in truth["latency_seconds"]["all"].items():
        assert r["latency_seconds"][k] == pytest.approx(v, abs=1e-6), k
    models = {m["model_group"]: m for m in r["models"]}
    for group, lat in truth["latency_seconds"]["per_model_group"].items():
        got = models[group or "(none)"]["latency_seconds"]
        assert [got[k] for k in ("p50", "p95", "p99", "max")] == pytest.approx(
            [lat[k] for k in ("p50", "p95", "p99", "max")], abs=1e-6
        ), group
    for m in truth["per_model_group"]:
        got = models[m["model_group"] or "(none)"]
        assert (got["requests"], got["failures"]) == (m["rows"], m["failure"])
    att, ta = r["attribution"], truth["attribution"]
    assert att["rows_with_end_user"] == ta["rows_with_end_user"]
    assert att["rows_with_session_id"] == ta["rows_with_session_id"]
    assert att["distinct_session_ids"] == ta["distinct_session_ids"]
    assert att["rows_with_client_tags"] == ta["rows_with_client_tags"]
    assert att["no_end_user"]["spend_usd"] == pytest.approx(ta["spend_without_end_user"], abs=1e-9)
    assert att["no_team"]["requests"] == truth["spend_logs_without_team"]["rows"]
    failing = {m["model_group"] for m in r["always_failing_models"]}
    assert {"fake-ratelimited", "fake-small-context", "fake-dead-endpoint"} <= failing
    assert "fake-gpt-4o" not in failing
    over = {(e["kind"], e["name"]) for e in r["budgets"]["entities"] if e["days_left"] == 0}
    assert {("team", "research"), ("key", "carol-sandbox")} <= over
    rendered_ok(r)


def test_older_litellm_without_the_status_column(make_litellm_db):
    db = make_litellm_db(upto="20250425182129")  # session_id yes, status not yet
    assert (
        db.scalar("""SELECT count(*) FROM information_schema.columns WHERE table_name = 'LiteLLM_SpendLogs'
                        AND column_name = 'status'""")
        == 0
    )
    seed000.load(db.conninfo)
    r = run_audit(db.url)
    assert (r["requests"], r["failures"]) == (330, 106)
    assert r["context_overflow"]["largest_requested_output"] == 720_000


@pytest.mark.parametrize("name", ["litellm-real-A.dump", "litellm-real-A.sql.gz"])
def test_dump_through_the_cli(name, tmp_path):
    path = FIXTURES / name
    if not path.exists():
        require("the real LiteLLM fixture", f"{path} is missing")  # skips locally, fails with CI=true
    out = tmp_path / "report.json"
    res = run_cli("audit", "--dump", str(path), "--format", "json", "--output", str(out), timeout=300)
    assert res.returncode == 0, res.stderr
    r = json.loads(out.read_text())
    assert (r["requests"], r["failures"], tuple(r)) == (600, 181, KEYS)
    assert r["source"] == f"dump {name}"


def test_dump_errors_are_one_line(tmp_path):
    missing = run_cli("audit", "--dump", str(tmp_path / "nope.dump"))
    junk = tmp_path / "junk.dump"
    junk.write_bytes(b"\x00\x01not a dump" * 50)
    corrupt = run_cli("audit", "--dump", str(junk))
    for res, words in ((missing, "no such file"), (corrupt, "not a PostgreSQL dump")):
        assert res.returncode == 1 and words in res.stderr and len(res.stderr.strip().splitlines()) == 1
    bad = run_cli("audit", "--dump", str(junk), "--since", "2026-02-01", "--until", "2026-01-01")
    assert bad.returncode == 2 and "--since must be before --until" in bad.stderr


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """A tiny PNG decoder (8-bit RGB/RGBA, non-interlaced): width, height, rows of pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pred = (
                0,
                a,
                b,
                (a + b) // 2,
                a if abs(p - a) <= min(abs(p - b), abs(p - c)) else b if abs(p - b) <= abs(p - c) else c,
            )[f]
            line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3))
        prev = line
    return width, height, rows


def screenshot(html: Path, png: Path, size: str = "1200,2000") -> None:
    chromium = require_binary("chromium")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            f"--user-data-dir={html.parent / 'chromium-profile'}",
            f"--window-size={size}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=clean_env(),
    )


def test_html_report_renders_in_headless_chromium(seed_db, tmp_path):
    html, png = tmp_path / "audit.html", tmp_path / "audit.png"
    html.write_text(render(run_audit(seed_db.url), "html"))
    screenshot(html, png)
    width, height, rows = _png_pixels(png.read_bytes())
    assert (width, height) == (1200, 2000)
    colors, ink = set(), 0
    for row in rows[::4]:
        for x in range(0, len(row), 12):
            px = row[x : x + 3]
            colors.add(px)
            ink += px != b"\xff\xff\xff"
    assert len(colors) > 50, "the screenshot is (nearly) blank"
    assert ink > 0.05 * (len(rows) // 4) * (len(rows[0]) // 12)
