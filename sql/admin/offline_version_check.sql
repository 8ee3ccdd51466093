-- Purpose: (admin, `roles apply --sql` only) the start of the offline script: our schema and alembic's version
--   table, created only if missing (the same table `alembic upgrade` creates), and a refusal to run on a database
--   that a newer litellm-spend-exporter migrated to a revision this script does not know. Idempotent, so the
--   script can be re-run, and run after or before the online `roles apply`.
-- Binds (settings): litellm_exporter.revisions (the script's revisions, comma-separated, oldest first)
-- Output: none (DDL)
CREATE SCHEMA IF NOT EXISTS litellm_exporter;
CREATE TABLE IF NOT EXISTS litellm_exporter.alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
DO $check$
DECLARE
    known   text[] := string_to_array(current_setting('litellm_exporter.revisions'), ',');
    unknown text;
BEGIN
    SELECT string_agg(version_num, ', ') INTO unknown
    FROM litellm_exporter.alembic_version WHERE NOT version_num = ANY (known);
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'schema litellm_exporter is at revision %, which this script does not know: a newer '
                        'litellm-spend-exporter migrated it; print the script with that version', unknown;
    END IF;
END
$check$;
