-- Purpose: (admin, downgrade of migration 0001) revoke everything the managed readers were granted in this
--   database and drop the roles this tool created (roles made elsewhere, e.g. by CloudNativePG, are kept).
-- Binds (settings): litellm_exporter.schema (LiteLLM's schema)
-- Output: none (DDL), NOTICEs
DO $drop$
DECLARE
    sch text := current_setting('litellm_exporter.schema');
    m   record;
BEGIN
    IF to_regclass('litellm_exporter.managed_role') IS NULL THEN
        RETURN;
    END IF;
    FOR m IN SELECT role_name, created_by_us FROM litellm_exporter.managed_role LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = m.role_name);
        IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = sch) THEN
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', sch, m.role_name);
            EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', sch, m.role_name);
        END IF;
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), m.role_name);
        IF m.created_by_us THEN
            BEGIN
                EXECUTE format('DROP ROLE %I', m.role_name);
            EXCEPTION WHEN dependent_objects_still_exist THEN
                RAISE NOTICE 'role % still has privileges in another database; revoke them there, then DROP ROLE',
                    m.role_name;
            END;
        ELSE
            EXECUTE format('ALTER ROLE %I RESET ALL', m.role_name);
        END IF;
    END LOOP;
    DROP TABLE litellm_exporter.managed_role;
END
$drop$;
