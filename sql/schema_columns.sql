-- Purpose: detect which LiteLLM tables and columns the connected database has (schema capabilities).
--   Uses pg_catalog rather than information_schema.columns, because information_schema only lists columns
--   the current role may read: the exporter must tell "column missing" from "column not granted".
-- Binds: :schema (LiteLLM's schema, DATABASE_SCHEMA, default public)
-- Output: table_name, column_name, data_type (labels); relkind ('r' table, 'p' partitioned, 'v' view),
--   can_select (whether the current role may SELECT the column), can_write (whether it may INSERT, UPDATE,
--   DELETE or TRUNCATE the table: through a grant, ownership or pg_write_all_data)
-- Checked against: litellm-proxy-extras 0.4.110 migrations on PostgreSQL 15 and 18
SELECT c.relname AS table_name,
       a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       c.relkind::text AS relkind,
       has_column_privilege(c.oid, a.attnum, 'SELECT') AS can_select,
       (has_any_column_privilege(c.oid, 'INSERT') OR has_any_column_privilege(c.oid, 'UPDATE')
        OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')) AS can_write
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = :schema
  AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relname LIKE 'LiteLLM\_%'
ORDER BY c.relname, a.attnum
