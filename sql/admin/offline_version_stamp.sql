-- Purpose: (admin, `roles apply --sql` only) after the migrations, record the head revision in alembic's version
--   table the way `alembic upgrade head` leaves it (one row), so the online `roles apply` sees the migrations as
--   applied. Idempotent: re-running leaves the one row as it is.
-- Binds (settings): litellm_exporter.revisions (comma-separated, oldest first; the last is head)
-- Output: none (DML on our own table)
DO $stamp$
DECLARE
    known text[] := string_to_array(current_setting('litellm_exporter.revisions'), ',');
    head  text   := known[array_upper(known, 1)];
BEGIN
    DELETE FROM litellm_exporter.alembic_version WHERE version_num <> head;
    INSERT INTO litellm_exporter.alembic_version (version_num) VALUES (head) ON CONFLICT DO NOTHING;
END
$stamp$;
