-- Purpose: the indexes on LiteLLM_SpendLogs (or, if it is partitioned, on the parent and its partitions), so
--   that `check` can say which of the indexes in sql/indexes/ are missing.
-- Binds: none
-- Output labels: name
-- Output values: definition (pg_get_indexdef)
-- Tables: catalogs only
-- Checked against: litellm-proxy-extras 0.4.110
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
WHERE i.indrelid = '"LiteLLM_SpendLogs"'::regclass
   OR i.indrelid IN (SELECT relid FROM pg_partition_tree('"LiteLLM_SpendLogs"'::regclass))
ORDER BY 1
