-- Purpose: (admin) create or update one read-only login and grant it SELECT on exactly the LiteLLM columns its
--   SQL reads (sql/grants/<purpose>.json), revoking everything else it had on LiteLLM's tables. Idempotent:
--   re-running it after a LiteLLM upgrade grants columns LiteLLM added to tables the reader uses.
--   Values arrive through settings set with bound parameters (set_config), never formatted into this text;
--   identifiers are quoted with format('%I').
-- Binds (settings): litellm_exporter.role, .purpose, .schema (LiteLLM's), .columns (JSON table -> [column]),
--   .connection_limit, .statement_timeout, .password (a SCRAM-SHA-256 verifier, or '' to keep the password)
-- Output: none (DDL), NOTICEs
DO $sync$
DECLARE
    r        text    := current_setting('litellm_exporter.role');
    purpose  text    := current_setting('litellm_exporter.purpose');
    sch      text    := current_setting('litellm_exporter.schema');
    cols     jsonb   := current_setting('litellm_exporter.columns')::jsonb;
    conn_max integer := current_setting('litellm_exporter.connection_limit')::integer;
    timeout  text    := current_setting('litellm_exporter.statement_timeout');
    verifier text    := current_setting('litellm_exporter.password');
    ours     boolean;
    tbl      text;
    wanted   jsonb;
    collist  text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
        EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
                       'NOINHERIT CONNECTION LIMIT %s', r, conn_max);
        ours := true;
    ELSE
        ours := COALESCE((SELECT created_by_us FROM litellm_exporter.managed_role WHERE role_name = r), false);
    END IF;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = r) THEN
        RAISE EXCEPTION 'role % is a superuser: a reader must not be one; use another role name', r;
    END IF;
    IF ours THEN  -- roles made elsewhere (e.g. CloudNativePG managed roles) keep their attributes
        EXECUTE format('ALTER ROLE %I LOGIN NOINHERIT CONNECTION LIMIT %s', r, conn_max);
        -- only when one is set: naming CREATEDB, REPLICATION or BYPASSRLS at all needs that attribute (PostgreSQL
        -- 16+), which a non-superuser admin with CREATEROLE lacks
        IF (SELECT rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('ALTER ROLE %I NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', r);
        END IF;
    END IF;
    IF verifier <> '' THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', r, verifier);
    END IF;
    EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', r);
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', r, timeout);
    EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', r, '5s');
    EXECUTE format('ALTER ROLE %I SET search_path = %I', r, sch);
    -- everything on LiteLLM's tables is revoked (column privileges go with it), then exactly the manifest
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', sch, r);
    FOR tbl, wanted IN SELECT key, value FROM jsonb_each(cols) LOOP
        IF to_regclass(format('%I.%I', sch, tbl)) IS NULL THEN
            RAISE NOTICE 'table %.% does not exist in this LiteLLM version; skipped', sch, tbl;
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname) INTO collist
        FROM pg_attribute a
        WHERE a.attrelid = to_regclass(format('%I.%I', sch, tbl)) AND a.attnum > 0 AND NOT a.attisdropped
          AND a.attname IN (SELECT jsonb_array_elements_text(wanted));
        IF collist IS NOT NULL THEN
            EXECUTE format('GRANT SELECT (%s) ON %I.%I TO %I', collist, sch, tbl, r);
        END IF;
    END LOOP;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', sch, r);
    INSERT INTO litellm_exporter.managed_role (role_name, purpose, created_by_us)
    VALUES (r, purpose, ours)
    ON CONFLICT (role_name) DO UPDATE SET purpose = EXCLUDED.purpose, updated_at = now();
END
$sync$;
