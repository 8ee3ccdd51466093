"""Budget gauges for keys, teams, users, organizations and end users, with LiteLLM's BudgetTable fallback, on the
real migrated schema; bounded and with unique series."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from helpers import exporter_for, samples, scrape

RESET = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
SETUP = """
INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, budget_reset_at, created_by, updated_by)
VALUES ('b-org', 100, NULL, '2030-01-01', 'test', 'test'),
       ('b-end', 5, NULL, NULL, 'test', 'test'),
       ('b-key', 50, 40, '2030-01-01', 'test', 'test');
INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, spend, created_by, updated_by)
VALUES ('o1', 'acme', 'b-org', 30, 'test', 'test');
INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, spend, max_budget, soft_budget, budget_reset_at)
VALUES ('t1', 'platform', 8, 10, 6, '2030-01-01'), ('t2', NULL, 3, NULL, NULL, NULL);
INSERT INTO "LiteLLM_UserTable" (user_id, spend, max_budget, budget_reset_at)
VALUES ('alice', 2, 4, '2030-01-01'), ('bob', 1, NULL, NULL);
INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, budget_id, blocked) VALUES ('cust-1', 7, 'b-end', false);
INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, max_budget, budget_id, budget_reset_at)
VALUES ('k1', 'sk-...k1k1', 'from-budget-row', 45, NULL, 'b-key', NULL);
"""


def gauge(s: dict, name: str, **labels) -> float | None:
    return s.get((name, tuple(sorted(labels.items()))))


def test_every_entity_with_the_budget_table_fallback(litellm_db):
    litellm_db.execute(SETUP)
    s = scrape(exporter_for(litellm_db))
    team = {"team": "t1", "team_alias": "platform"}
    assert gauge(s, "litellm_db_team_spend_usd", **team) == 8
    assert gauge(s, "litellm_db_team_max_budget_usd", **team) == 10
    assert gauge(s, "litellm_db_team_budget_remaining_usd", **team) == 2
    assert gauge(s, "litellm_db_team_soft_budget_usd", **team) == 6
    assert gauge(s, "litellm_db_team_budget_reset_timestamp_seconds", **team) == RESET
    no_limit = {"team": "t2", "team_alias": "t2"}  # no alias: the id; no limit: no fake one
    assert gauge(s, "litellm_db_team_spend_usd", **no_limit) == 3
    assert gauge(s, "litellm_db_team_max_budget_usd", **no_limit) is None
    assert gauge(s, "litellm_db_team_budget_remaining_usd", **no_limit) is None

    assert gauge(s, "litellm_db_user_budget_remaining_usd", user="alice") == 2
    assert gauge(s, "litellm_db_user_budget_reset_timestamp_seconds", user="alice") == RESET
    assert gauge(s, "litellm_db_user_spend_usd", user="bob") == 1
    assert gauge(s, "litellm_db_user_max_budget_usd", user="bob") is None

    org = {"org_id": "o1", "org_alias": "acme"}  # limit and reset from the organization's budget row
    assert gauge(s, "litellm_db_org_max_budget_usd", **org) == 100
    assert gauge(s, "litellm_db_org_budget_remaining_usd", **org) == 70
    assert gauge(s, "litellm_db_org_budget_reset_timestamp_seconds", **org) == RESET
    assert gauge(s, "litellm_db_end_user_max_budget_usd", end_user="cust-1") == 5
    assert gauge(s, "litellm_db_end_user_budget_remaining_usd", end_user="cust-1") == -2  # overspent

    key = {"api_key_alias": "from-budget-row", "team_alias": ""}  # limit, soft budget and reset from b-key
    assert gauge(s, "litellm_db_key_max_budget_usd", **key) == 50
    assert gauge(s, "litellm_db_key_soft_budget_usd", **key) == 40
    assert gauge(s, "litellm_db_key_budget_reset_timestamp_seconds", **key) == RESET


def test_keys_are_bounded_most_at_risk_first_and_series_stay_unique(litellm_db):
    """More keys than the limit: the ones closest to their limit are kept. Keys sharing a 300-character alias
    (longer than a label value may be) still get distinct series."""
    long_alias = "a" * 300
    rows = [f"('k{i:03d}', 'sk-...{i:04d}', '{long_alias}', {i}, 100, NULL)" for i in range(30)]
    litellm_db.execute(
        'INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, max_budget, '
        f"budget_reset_at) VALUES {', '.join(rows)}, ('nolimit', 'sk-...zzzz', 'big', 1000, NULL, NULL)"
    )
    ref = exporter_for(litellm_db, metrics__limits={"api_key_alias": 10})
    text = scrape(ref) and ref.snapshot.body.decode()
    lines = [ln.rsplit(" ", 1)[0] for ln in text.splitlines() if ln.startswith("litellm_db_key_spend_usd{")]
    assert len(lines) == 10 and not [k for k, n in Counter(lines).items() if n > 1]
    s = samples(text)
    spends = sorted(v for (name, _), v in s.items() if name == "litellm_db_key_spend_usd")
    assert spends == [float(i) for i in range(20, 30)]  # 20..29 % used: the ten most at risk
    assert all(len(dict(labels)["api_key_alias"]) <= 200 for (name, labels) in s if name.startswith("litellm_db_key_"))


@pytest.mark.parametrize("limit", [1, 3])
def test_team_gauges_follow_the_team_limit(litellm_db, limit):
    litellm_db.execute(
        'INSERT INTO "LiteLLM_TeamTable" (team_id, spend, max_budget) VALUES '
        "('t1', 1, 10), ('t2', 9, 10), ('t3', 5, 10), ('t4', 100, NULL)"
    )
    s = scrape(exporter_for(litellm_db, metrics__limits={"team_alias": limit}))
    kept = sorted(dict(labels)["team"] for (name, labels) in s if name == "litellm_db_team_spend_usd")
    assert kept == sorted(["t2", "t3", "t1"][:limit])
