"""Least privilege: reader roles that read exactly their columns, write nothing, survive LiteLLM upgrades."""

from __future__ import annotations

import json
import re

import psycopg
import pytest
import sqlalchemy as sa
from conftest import make_login, remove_logins
from helpers import Serve, clean_env, run_cli, samples
from sqlalchemy.engine import make_url

from exporter import app, config
from exporter.access import grants, roles
from exporter.database import sqlfiles
from exporter.local import litellm_migrations


def login_conn(db, login) -> psycopg.Connection:
    return psycopg.connect(
        host="127.0.0.1", port=db.pg.port, dbname=db.name, user=login.role, password=login.password, autocommit=True
    )


def test_committed_grant_manifests_match_the_sql(litellm_db):
    """sql/grants/*.json are what PostgreSQL's own privilege checks say the SQL files need."""
    engine = sa.create_engine(litellm_db.url)
    with engine.connect() as conn:
        generated = grants.generate(conn)
    engine.dispose()
    for reader, data in generated.items():
        assert grants.load(reader) == data, f"run `python -m exporter.local.grants` and commit sql/grants/{reader}.json"
    for table, cols in grants.FORBIDDEN.items():
        for reader in generated:
            assert not set(cols) & set(generated[reader].get(table, []))
    for reader in generated:
        assert not grants.FORBIDDEN_TABLES & set(generated[reader])


@pytest.mark.parametrize("purpose", ["exporter", "grafana"])
def test_reader_reads_exactly_its_columns_and_writes_nothing(litellm_db, purpose):
    login = make_login(litellm_db, purpose)
    try:
        manifest = grants.load(purpose)
        with login_conn(litellm_db, login) as conn:
            for table, cols in manifest.items():
                conn.execute(
                    f'SELECT {", ".join(f"{c!r}".replace(chr(39), chr(34)) for c in cols)} FROM "{table}" LIMIT 1'
                )
            assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1min"
            denied = [
                'SELECT messages FROM "LiteLLM_SpendLogs"',
                'SELECT response FROM "LiteLLM_SpendLogs"',
                'SELECT proxy_server_request FROM "LiteLLM_SpendLogs"',
                'SELECT * FROM "LiteLLM_SpendLogs"',
                'SELECT password FROM "LiteLLM_UserTable"',
                'SELECT * FROM "LiteLLM_Config"',
                'SELECT * FROM "LiteLLM_CredentialsTable"',
                'SELECT litellm_params FROM "LiteLLM_ProxyModelTable"',
            ]
            for statement in denied:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            writes = [
                "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, created_by, updated_by) VALUES ('x', 'a', 'b')",
                'UPDATE "LiteLLM_VerificationToken" SET spend = 0',
                'DELETE FROM "LiteLLM_SpendLogs"',
                'TRUNCATE "LiteLLM_SpendLogs"',
                "CREATE TABLE public.x (id int)",
                "CREATE TEMP TABLE x (id int)",
            ]
            for statement in writes:
                with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
                    conn.execute(statement)
            conn.execute("SET default_transaction_read_only = off")  # even when the session tries
            for statement in writes[:5]:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            row = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolconnlimit FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
            assert row == (False, False, False, 5)
    finally:
        remove_logins(litellm_db)


def test_every_exporter_query_runs_as_the_exporter_role(litellm_db, exporter_login):
    """Each SQL file of the exporter plans and runs under its role (the probe behind the manifests)."""
    engine = sa.create_engine(make_url(exporter_login.url))
    with engine.connect() as conn:
        for name in grants.files_for("exporter"):
            if name.endswith("_nostatus"):
                continue  # planned on an older LiteLLM in test_upgrade_safety
            conn.execute(
                sa.text(sqlfiles.text(name)),
                {k: v for k, v in grants.PLAN_PARAMS.items() if f":{k}" in sqlfiles.text(name)},
            ).all()
    engine.dispose()


def test_apply_is_idempotent_and_remove_cleans_up(litellm_db):
    login = make_login(litellm_db)
    make_login(litellm_db)  # again: no error, same grants
    assert litellm_db.scalar("SELECT count(*) FROM litellm_exporter.managed_role") == 1
    assert litellm_db.scalar("SELECT version_num FROM litellm_exporter.alembic_version") == "0001"
    remove_logins(litellm_db)
    assert litellm_db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = %s", (login.role,)) == 0
    assert litellm_db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'litellm_exporter'") == 0
    make_login(litellm_db)  # and back
    remove_logins(litellm_db)


def test_roles_apply_as_the_table_owner_with_createrole_and_create_on_the_database(litellm_db):
    """The README's admin short of a superuser: LiteLLM's table owner with CREATEROLE and CREATE on the database."""
    db, admin = litellm_db, f"own_{litellm_db.name}"
    readers = [
        roles.Reader("exporter", f"exp_{db.name}", 5, "60s", "r-Pa55"),
        roles.Reader("grafana", f"gra_{db.name}", 5, "60s", "r-Pa55"),
    ]
    db.execute(f"CREATE ROLE {admin} LOGIN CREATEROLE PASSWORD 'own-Pa55'")
    db.execute(
        "DO $$ DECLARE t record; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
        f"LOOP EXECUTE format('ALTER TABLE public.%I OWNER TO {admin}', t.tablename); END LOOP; END $$"
    )
    url = make_url(db.pg.url(db.name, user=admin, password="own-Pa55"))
    try:
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied for database"):
            roles.apply(url, readers, "public")  # CREATE SCHEMA litellm_exporter needs CREATE on the database
        db.execute(f"GRANT CREATE ON DATABASE {db.name} TO {admin}")
        roles.apply(url, readers, "public")
        roles.apply(url, readers, "public")  # and again (re-applying names no attribute the admin lacks)
        for reader in readers:
            assert_grants(db, reader.name, reader.purpose)
            assert (
                db.scalar(
                    "SELECT rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls OR rolsuper "
                    "FROM pg_roles WHERE rolname = %s",
                    (reader.name,),
                )
                is False
            )
            url_r = db.pg.url(db.name, user=reader.name, password="r-Pa55")
            proc = run_cli("check", "--reader", reader.purpose, env=clean_env(DATABASE_URL=url_r))
            assert proc.returncode == 0, proc.stderr
        roles.remove(url, "public")
        assert db.scalar("SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", tuple(r.name for r in readers)) == 0
    finally:
        remove_logins(db)
        db.execute(f"REASSIGN OWNED BY {admin} TO postgres")
        db.execute(f"DROP OWNED BY {admin}")
        db.execute(f"DROP ROLE {admin}")


@pytest.mark.parametrize("purpose", ["exporter", "grafana"])
def test_readers_can_create_temp_tables_until_temp_is_revoked_from_public(litellm_db, purpose):
    """The README's caveat, reproduced: TEMP comes from PUBLIC's default privileges, not from our grants."""
    login = make_login(litellm_db, purpose)
    try:
        with login_conn(litellm_db, login) as conn:
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                conn.execute("CREATE TEMP TABLE scratch (id int)")  # the role's read-only default stops it ...
            conn.execute("SET default_transaction_read_only = off")
            conn.execute("CREATE TEMP TABLE scratch (id int)")  # ... but the session may turn it off
            conn.execute("INSERT INTO scratch VALUES (1)")
        litellm_db.execute(f"REVOKE TEMP ON DATABASE {litellm_db.name} FROM PUBLIC")  # the README's command
        with login_conn(litellm_db, login) as conn:
            conn.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary tables"):
                conn.execute("CREATE TEMP TABLE scratch (id int)")
    finally:
        remove_logins(litellm_db)


def test_check_flags_create_on_schema_public_as_postgresql_14_grants_it(litellm_db, exporter_login):
    """PostgreSQL 14 and older let PUBLIC create in schema public; check fails until that is revoked."""
    litellm_db.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")  # the default before PostgreSQL 15
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode == 1
    assert f"role {exporter_login.role!r} can CREATE objects in schema 'public'" in proc.stderr
    litellm_db.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")  # the README's command
    assert run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url)).returncode == 0


def test_existing_role_keeps_its_attributes(litellm_db):
    """A role made elsewhere (e.g. a CloudNativePG managed role) gets grants, not attribute changes."""
    role = f"exp_{litellm_db.name}"
    litellm_db.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 3 PASSWORD 'from-cnpg'")
    try:
        roles.apply(make_url(litellm_db.url), [roles.Reader("exporter", role, 5, "60s", None)], "public")
        assert litellm_db.scalar("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (role,)) == 3
        assert litellm_db.scalar("SELECT has_column_privilege(%s, '\"LiteLLM_SpendLogs\"', 'spend', 'SELECT')", (role,))
        remove_logins(litellm_db)
        assert litellm_db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)) == 1  # kept
        assert not litellm_db.scalar(
            "SELECT has_column_privilege(%s, '\"LiteLLM_SpendLogs\"', 'spend', 'SELECT')", (role,)
        )
    finally:
        litellm_db.execute(f"DROP OWNED BY {role}")
        litellm_db.execute(f"DROP ROLE {role}")


def assert_grants(db, role: str, purpose: str) -> None:
    """The role may SELECT exactly its manifest's columns (those that exist) and no forbidden one."""
    for table, cols in grants.load(purpose).items():
        for col in cols:
            assert db.scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s) "
                "OR has_column_privilege(%s, %s, %s, 'SELECT')",
                (f'public."{table}"', col, role, f'public."{table}"', col),
            ), (role, table, col)
    granted = db.scalar(
        "SELECT count(*) FROM information_schema.column_privileges WHERE grantee = %s AND privilege_type = 'SELECT'",
        (role,),
    )
    wanted = db.scalar(
        "SELECT count(*) FROM pg_attribute a JOIN jsonb_each(%s::jsonb) m(t, cols) "
        "ON a.attrelid = to_regclass(format('public.%%I', m.t)) "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attname IN (SELECT jsonb_array_elements_text(m.cols))",
        (json.dumps(grants.load(purpose)),),
    )
    assert granted == wanted, (role, granted, wanted)  # and nothing else
    for table, cols in grants.FORBIDDEN.items():
        for col in cols:
            assert not db.scalar("SELECT has_column_privilege(%s, %s, %s, 'SELECT')", (role, f'"{table}"', col))


def run_script(db, text: str, check: bool = True):
    """psql -v ON_ERROR_STOP=1 with the script on stdin, exactly as the README tells DBAs (no -1)."""
    return db.pg.psql(db.name, input=text, check=check)


def test_sql_script_for_dbas_runs_twice_and_after_an_online_apply(litellm_db):
    db = litellm_db
    exp, gra = f"exp_{db.name}", f"gra_{db.name}"
    readers = [roles.Reader("exporter", exp, 5, "60s", "dba-pass"), roles.Reader("grafana", gra, 10, "30s", None)]
    text = roles.script(readers, "public")
    assert "dba-pass" not in text and "SCRAM-SHA-256$4096:" in text
    assert text.count("BEGIN;") == 1 and text.rstrip().endswith("COMMIT;")  # one transaction of its own

    def installed() -> None:
        for reader in readers:
            assert_grants(db, reader.name, reader.purpose)
        with db.connect() as c:
            assert c.execute("SELECT version_num FROM litellm_exporter.alembic_version").fetchall() == [("0001",)]
            assert c.execute(
                "SELECT role_name, purpose, created_by_us FROM litellm_exporter.managed_role ORDER BY purpose"
            ).fetchall() == [(exp, "exporter", True), (gra, "grafana", True)]

    try:
        run_script(db, text)  # a fresh database
        installed()
        run_script(db, text)  # the DBA re-runs it (e.g. after a LiteLLM upgrade)
        installed()
        with psycopg.connect(
            host="127.0.0.1", port=db.pg.port, dbname=db.name, user=exp, password="dba-pass"
        ) as conn:  # the verifier works with the password
            assert conn.execute("SELECT current_user").fetchone()[0] == exp
        roles.apply(make_url(db.url), readers, "public")  # the online apply accepts what the script left
        installed()

        remove_logins(db)
        assert db.scalar("SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", (exp, gra)) == 0
        roles.apply(make_url(db.url), readers, "public")  # online first ...
        run_script(db, text)  # ... then the script
        installed()

        db.execute("INSERT INTO litellm_exporter.alembic_version VALUES ('9999')")  # a newer exporter's revision
        proc = run_script(db, text, check=False)
        assert proc.returncode != 0
        assert "schema litellm_exporter is at revision 9999, which this script does not know" in proc.stderr
    finally:
        db.execute("DELETE FROM litellm_exporter.alembic_version WHERE version_num = '9999'")
        remove_logins(db)


def test_upgrade_safety_litellm_migrations_still_apply(make_litellm_db):
    """Both roles installed on an older LiteLLM; LiteLLM's later migrations all apply; re-apply grants what they add."""
    old_point = "20250425182129"  # before SpendLogs.status, the Daily team/org/end-user tables, ...
    db = make_litellm_db(upto=old_point)
    exporter, grafana = make_login(db), make_login(db, "grafana")
    readers = [
        roles.Reader("exporter", exporter.role, 5, "60s", None),
        roles.Reader("grafana", grafana.role, 5, "60s", None),
    ]

    def exists(table: str, column: str) -> bool:
        return (
            db.scalar(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                "AND NOT attisdropped",
                (f'"{table}"', column),
            )
            == 1
        )

    def can_read(role: str, table: str, column: str) -> bool:
        return exists(table, column) and db.scalar(
            "SELECT has_column_privilege(%s, %s, %s, 'SELECT')", (role, f'"{table}"', column)
        )

    manifest = [(t, c) for t, cols in grants.load("grafana").items() for c in cols]
    missing = [(t, c) for t, c in manifest if not exists(t, c)]
    # the Grafana manifest names tables this LiteLLM does not have yet (the Deleted* tables) and columns of tables
    # it has (SpendLogs.status): apply skips them with a notice
    assert ("LiteLLM_DeletedTeamTable", "team_id") in missing and ("LiteLLM_SpendLogs", "status") in missing

    try:
        assert_grants(db, grafana.role, "grafana")  # everything that exists, no error for what does not
        old_exporter = app.build(config.Config.model_validate({"database": {"url": exporter.url}}))
        assert old_exporter.refresh(), old_exporter.last_error  # the older-schema variants, as the role
        old_exporter.stop()
        later = litellm_migrations.select(after=old_point)
        assert len(later) > 150
        litellm_migrations.apply(db.pg, db.name, later)  # raises on the first failing migration
        assert db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == 101
        assert not can_read(exporter.role, "LiteLLM_SpendLogs", "status")
        assert all(exists(t, c) and not can_read(grafana.role, t, c) for t, c in missing)  # there, not granted yet
        roles.apply(make_url(db.url), readers, "public")  # re-run after the upgrade
        for login, purpose in ((exporter, "exporter"), (grafana, "grafana")):
            assert_grants(db, login.role, purpose)
            proc = run_cli("check", "--reader", purpose, env=clean_env(DATABASE_URL=login.url))
            assert proc.returncode == 0, proc.stderr
            assert check_facts(proc.stdout)["reads_other_columns"] == "0"
        assert all(can_read(grafana.role, t, c) for t, c in missing)
    finally:
        remove_logins(db)


def check_facts(stdout: str) -> dict[str, str]:
    """`check`'s report lines (key, two or more spaces, value) as a dict."""
    return dict(re.split(r"\s{2,}", line, maxsplit=1) for line in stdout.splitlines() if re.search(r"\S\s{2,}\S", line))


@pytest.mark.parametrize("purpose", ["exporter", "grafana"])
def test_check_passes_for_each_reader_that_reads_exactly_its_columns(litellm_db, purpose):
    login = make_login(litellm_db, purpose)
    try:
        proc = run_cli("check", "--reader", purpose, env=clean_env(DATABASE_URL=login.url))
        assert proc.returncode == 0, proc.stderr
        facts = check_facts(proc.stdout)
        needed = sum(len(cols) for cols in grants.load(purpose).values())
        assert facts["role"] == login.role and facts["reader"] == purpose
        assert facts["session_read_only"] == "yes"
        assert facts["can_write"] == "no"
        assert facts["reads_secret_columns"] == "no"
        assert facts["reads_other_columns"] == "0"
        assert facts["reads_needed_columns"] == f"{needed} of {needed}"
        assert proc.stdout.rstrip().endswith("can read this LiteLLM database")
        if purpose == "grafana":  # checked against the exporter's manifest, the Grafana login lacks columns
            proc = run_cli("check", env=clean_env(DATABASE_URL=login.url))
            assert proc.returncode == 1
            assert "column(s) the exporter reads" in proc.stderr and "--reader grafana" in proc.stderr
            assert int(check_facts(proc.stdout)["reads_other_columns"]) > 0
    finally:
        remove_logins(litellm_db)


def test_check_fails_for_a_role_that_can_read_credentials_or_prompts(litellm_db, exporter_login):
    role = exporter_login.role
    for grant, shown in [
        ('SELECT ON "LiteLLM_Config"', "LiteLLM_Config.param_name"),
        ('SELECT (credential_values) ON "LiteLLM_CredentialsTable"', "LiteLLM_CredentialsTable.credential_values"),
        ('SELECT (litellm_params) ON "LiteLLM_ProxyModelTable"', "LiteLLM_ProxyModelTable.litellm_params"),
        ('SELECT (messages) ON "LiteLLM_SpendLogs"', "LiteLLM_SpendLogs.messages"),
    ]:
        litellm_db.execute(f'GRANT {grant} TO "{role}"')
        try:
            proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
            assert proc.returncode == 1, grant
            assert f"role {role!r} can read prompt/response/secret columns: " in proc.stderr, grant
            assert shown in proc.stderr and shown in check_facts(proc.stdout)["reads_secret_columns"], grant
        finally:
            litellm_db.execute(f'REVOKE {grant} FROM "{role}"')
    assert run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url)).returncode == 0


def test_check_fails_for_superuser_and_missing_grant(litellm_db, exporter_login):
    proc = run_cli("check", env=clean_env(DATABASE_URL=litellm_db.url))
    assert proc.returncode == 1
    assert "is a superuser" in proc.stderr and "can read prompt/response/secret columns" in proc.stderr
    assert all(line.startswith("FAIL ") for line in proc.stderr.strip().splitlines())
    litellm_db.execute(f'REVOKE SELECT (spend) ON "LiteLLM_SpendLogs" FROM "{exporter_login.role}"')
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode == 1
    assert "lacks SELECT on 1 column(s) the exporter reads: LiteLLM_SpendLogs.spend" in proc.stderr
    litellm_db.execute(f'GRANT INSERT ON "LiteLLM_SpendLogs" TO "{exporter_login.role}"')
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert "can INSERT/UPDATE/DELETE/TRUNCATE 1 LiteLLM table(s): LiteLLM_SpendLogs" in proc.stderr


def test_serve_refuses_a_write_capable_role_unless_told(litellm_db):
    from exporter.local.postgres import free_port

    proc = run_cli(
        "serve",
        "--web.listen-address",
        f"127.0.0.1:{free_port()}",
        env=clean_env(DATABASE_URL=litellm_db.url),
        timeout=60,
    )
    assert proc.returncode == 1
    assert "refusing to run: role 'postgres' is a superuser" in proc.stderr
    with Serve(litellm_db.url, "--unsafe.allow-write-role") as srv:
        assert samples(srv.metrics())[("litellm_db_up", ())] == 1
    code, _, err = srv.stop()
    assert code == 0 and "the database role can write" in err


def test_roles_command_errors(litellm_db):
    proc = run_cli("roles", "apply")
    assert proc.returncode == 2 and "LITELLM_EXPORTER_ADMIN_URL" in proc.stderr
    proc = run_cli("roles", "apply", "--admin.url", "postgresql://admin:secret@127.0.0.1/x")
    assert proc.returncode == 2 and "must not hold a password" in proc.stderr and "secret" not in proc.stderr
    proc = run_cli("roles", "apply", "--roles.exporter-name", "pg_evil", "--sql")
    assert proc.returncode == 2
    proc = run_cli("roles", "apply", "--roles.exporter-name", 'x"; DROP TABLE y; --', "--sql")
    assert proc.returncode == 2


def test_roles_command_end_to_end_with_password_from_env(litellm_db):
    env = clean_env(LITELLM_EXPORTER_ADMIN_URL=litellm_db.url, LITELLM_EXPORTER_ROLE_PASSWORD="Env-Pa55word")
    role = f"cli_{litellm_db.name}"
    proc = run_cli("roles", "apply", "--roles.exporter-name", role, "--roles.grafana-name", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Env-Pa55word" not in proc.stdout + proc.stderr
    url = litellm_db.pg.url(litellm_db.name, user=role, password="Env-Pa55word")
    assert run_cli("check", env=clean_env(DATABASE_URL=url)).returncode == 0
    assert run_cli("roles", "remove", env=env).returncode == 0
    assert litellm_db.scalar("SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)) == 0
