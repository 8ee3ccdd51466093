"""The demo company's LiteLLM entities (orgs, teams, users, keys, end users, budgets) and their budgets."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from exporter.local.demodata import catalog as cat
from exporter.local.demodata.profiles import end_user_pool
from exporter.local.demodata.schema import Schema
from exporter.local.demodata.textfmt import from_ms, to_ms

ADMIN = "default_user_id"
DAY = timedelta(days=1)
END_USER_BUDGETS = {"budget-end-user-free": 2.0, "budget-end-user-pro": 25.0}


def _reset_at(name: str, duration: str | None, end: datetime) -> datetime | None:
    """The next standardized reset (a UTC midnight) such that the current period contains `end`."""
    if not duration:
        return None
    days = int(duration[:-1]) * (7 if duration.endswith("w") else 1)
    midnight = datetime(end.year, end.month, end.day)
    return midnight + DAY * (1 + int(cat.sha256_hex(name)[:6], 16) % days)


def hazards(end: datetime) -> dict[str, dict]:
    """When the blocked key was blocked and when the expired key expired (both before `end`)."""
    out: dict[str, dict[str, int | str]] = {}
    for k in cat.KEYS:
        if k.blocked:
            out[k.name] = {"blocked_from": to_ms(end - 2 * DAY)}
        if k.expired:
            exp = datetime(end.year, end.month, end.day) - 3 * DAY
            out[k.name] = {"expires": to_ms(exp), "expires_text": exp.isoformat()}
    return out


def hazards_from_db(conn: psycopg.Connection, s: Schema) -> dict[str, dict]:
    """The same, read back from VerificationToken (for `append`)."""
    by_token = {k.token: k.name for k in cat.KEYS}
    cols = s.present("LiteLLM_VerificationToken", ["blocked", "expires"])
    if len(cols) < 2:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT token, blocked, expires FROM {} WHERE token = ANY(%s)").format(
            s.tbl("LiteLLM_VerificationToken")
        ),
        (list(by_token),),
    ).fetchall()
    out = {}
    for token, blocked, expires in rows:
        st = {}
        if blocked:
            st["blocked_from"] = 0
        if expires is not None:
            st.update(expires=to_ms(expires), expires_text=expires.isoformat())
        out[by_token[token]] = st
    return out


def build(end: datetime, days: float) -> dict[str, list[dict]]:
    """Entity rows, keyed by table. Budget limits derived from spend are filled in later by `apply_budgets`."""
    created = from_ms(to_ms(end - timedelta(days=days) - 14 * DAY) // 1000 * 1000)
    common = {"created_at": created, "updated_at": created}
    orgs = {o.alias: o for o in cat.ORGS}
    teams = {t.alias: t for t in cat.TEAMS}
    budgets = [
        {"budget_id": f"budget-org-{o.alias}", "created_by": ADMIN, "updated_by": ADMIN, **common} for o in cat.ORGS
    ]
    budgets += [
        {"budget_id": b, "max_budget": v, "created_by": ADMIN, "updated_by": ADMIN, **common}
        for b, v in END_USER_BUDGETS.items()
    ]
    members = {(u, t) for t, us in cat.TEAM_MEMBERS.items() for u in us}
    members |= {(k.user, k.team) for k in cat.KEYS if k.user and k.team}
    keys = []
    for k in cat.KEYS:
        team = teams.get(k.team) if k.team else None
        row = {
            "token": k.token,
            "key_name": k.masked,
            "key_alias": k.alias,
            "user_id": k.user,
            "team_id": team.id if team else None,
            "models": list(k.models),
            "metadata": Jsonb({"owner": k.user}),
            "organization_id": orgs[team.org].id if team and team.org else None,
            "blocked": k.blocked or None,
            "rpm_limit": k.rpm_limit,
            "budget_duration": k.budget_duration,
            "budget_reset_at": _reset_at(k.name, k.budget_duration, end),
            "created_by": ADMIN,
            "updated_by": ADMIN,
            **common,
        }
        if k.expired:
            row["expires"] = from_ms(hazards(end)[k.name]["expires"])
        if k.fallback_budget:
            budget_id = row["budget_id"] = f"budget-key-{k.name}"
            budgets.append(
                {
                    "budget_id": budget_id,
                    "budget_duration": "30d",
                    "budget_reset_at": _reset_at(budget_id, "30d", end),
                    "created_by": ADMIN,
                    "updated_by": ADMIN,
                    **common,
                }
            )
        keys.append(row)
    end_users = sorted({e for k in cat.KEYS for e in end_user_pool(k)})
    return {
        "LiteLLM_BudgetTable": budgets,
        "LiteLLM_OrganizationTable": [
            {
                "organization_id": o.id,
                "organization_alias": o.alias,
                "budget_id": f"budget-org-{o.alias}",
                "models": [],
                "created_by": ADMIN,
                "updated_by": ADMIN,
                **common,
            }
            for o in cat.ORGS
        ],
        "LiteLLM_TeamTable": [
            {
                "team_id": t.id,
                "team_alias": t.alias,
                "organization_id": orgs[t.org].id if t.org else None,
                "admins": [],
                "members": cat.TEAM_MEMBERS.get(t.alias, []),
                "members_with_roles": Jsonb(
                    [{"role": "admin", "user_id": ADMIN, "user_email": None}]
                    + [
                        {"role": "user", "user_id": u, "user_email": f"{u}@acme.example"}
                        for u in cat.TEAM_MEMBERS.get(t.alias, [])
                    ]
                ),
                "metadata": Jsonb({"cost_center": f"cc-{t.alias}"}),
                "models": [],
                "budget_duration": t.budget_duration,
                "budget_reset_at": _reset_at(t.alias, t.budget_duration, end),
                **common,
            }
            for t in cat.TEAMS
        ],
        "LiteLLM_UserTable": [
            {
                "user_id": u.id,
                "user_email": None if u.id == ADMIN else u.email,
                "user_role": u.role,
                "teams": sorted(teams[t].id for (m, t) in members if m == u.id),
                "models": [],
                "budget_duration": u.budget_duration,
                "budget_reset_at": _reset_at(u.id, u.budget_duration, end),
                **common,
            }
            for u in cat.USERS
        ],
        "LiteLLM_VerificationToken": keys,
        "LiteLLM_EndUserTable": [
            {"user_id": e, "budget_id": ("budget-end-user-free", "budget-end-user-pro")[i % 2] if i % 9 == 0 else None}
            for i, e in enumerate(end_users)
        ],
        "LiteLLM_TeamMembership": [{"user_id": u, "team_id": teams[t].id} for u, t in sorted(members)],
    }


def insert(conn: psycopg.Connection, s: Schema, tables: dict[str, list[dict]]) -> None:
    """Insert entity rows, keeping only the columns this schema has; existing rows are left alone."""
    for table, rows in tables.items():
        if not rows or not s.has(table):
            continue
        cols = s.present(table, list(dict.fromkeys(c for r in rows for c in r)))
        stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
            s.tbl(table),
            sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder() * len(cols)),
        )
        with conn.cursor() as cur:
            cur.executemany(stmt, [tuple(r.get(c) for c in cols) for r in rows])


def _limit(spend: float, ratio: float) -> float:
    """A max_budget that puts the current spend at `ratio` of it (alerts need keys above 80 % and 100 %)."""
    return round(spend / ratio, 6) if spend > 0 else 10.0


def apply_budgets(conn: psycopg.Connection, s: Schema) -> None:
    """Set the spend-derived limits once the rows are in (deterministic: spend is)."""

    def spend_of(table: str, col: str, value: str) -> float:
        row = conn.execute(
            sql.SQL("SELECT spend FROM {} WHERE {} = %s").format(s.tbl(table), sql.Identifier(col)), (value,)
        ).fetchone()
        if row is None:
            raise LookupError(f"{table} has no row with {col} = {value!r}")
        return row[0]

    def update(table: str, col: str, value: str, **values) -> None:
        values = {k: v for k, v in values.items() if s.has(table, k)}
        if values:
            conn.execute(
                sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(
                    s.tbl(table),
                    sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in values),
                    sql.Identifier(col),
                ),
                (*values.values(), value),
            )

    vt, bt = "LiteLLM_VerificationToken", "LiteLLM_BudgetTable"
    for k in cat.KEYS:
        if k.budget_ratio:
            update(vt, "token", k.token, max_budget=_limit(spend_of(vt, "token", k.token), k.budget_ratio))
        if k.fallback_budget and s.has(vt, "budget_id"):
            ratio, soft = k.fallback_budget
            limit = _limit(spend_of(vt, "token", k.token), ratio)
            update(bt, "budget_id", f"budget-key-{k.name}", max_budget=limit, soft_budget=round(limit * soft, 6))
    for t in cat.TEAMS:
        if t.budget_ratio:
            limit = _limit(spend_of("LiteLLM_TeamTable", "team_id", t.id), t.budget_ratio)
            update(
                "LiteLLM_TeamTable",
                "team_id",
                t.id,
                max_budget=limit,
                **({"soft_budget": round(limit * t.soft_ratio, 6)} if t.soft_ratio else {}),
            )
    for u in cat.USERS:
        if u.budget_ratio:
            update(
                "LiteLLM_UserTable",
                "user_id",
                u.id,
                max_budget=_limit(spend_of("LiteLLM_UserTable", "user_id", u.id), u.budget_ratio),
            )
    for o in cat.ORGS:
        if o.budget_ratio and s.has("LiteLLM_OrganizationTable"):
            limit = _limit(spend_of("LiteLLM_OrganizationTable", "organization_id", o.id), o.budget_ratio)
            update(bt, "budget_id", f"budget-org-{o.alias}", max_budget=limit)
