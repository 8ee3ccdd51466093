-- Purpose: what the connected role is allowed beyond reading: superuser, bypassing row security, creating
--   objects in LiteLLM's schema or the database, membership of the predefined read-all / write-all roles.
-- Binds: :schema (LiteLLM's schema)
-- Output values: role, superuser, bypassrls, create_in_schema, create_in_database, read_all_data,
--   write_all_data
-- Tables: pg_roles (catalog only)
-- Checked against: PostgreSQL 15 and 18
SELECT r.rolname AS role,
       r.rolsuper AS superuser,
       r.rolbypassrls AS bypassrls,
       COALESCE(has_schema_privilege(n.oid, 'CREATE'), false) AS create_in_schema,
       has_database_privilege(current_database(), 'CREATE') AS create_in_database,
       pg_has_role(r.oid, 'pg_read_all_data', 'USAGE') AS read_all_data,
       pg_has_role(r.oid, 'pg_write_all_data', 'USAGE') AS write_all_data
FROM pg_roles r
LEFT JOIN pg_namespace n ON n.nspname = :schema
WHERE r.rolname = current_user
