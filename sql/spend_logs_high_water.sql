-- Purpose: the newest SpendLogs startTime and the database clock, at the start of a refresh.
-- Binds: none
-- Output values: max_start (newest "startTime" before year 10000, NULL when none), out_of_range (rows whose
--   "startTime" is 'infinity' or after year 9999: no client can represent it, so they are skipped and counted),
--   db_now (UTC, naive), db_now_epoch, inserted (rows ever inserted into SpendLogs and its partitions, from
--   PostgreSQL's statistics: the exporter skips the per-minute census while this grows by exactly the rows it
--   read after its cursor; 0 / not growing on a standby, which then means a census every refresh)
-- Tables: LiteLLM_SpendLogs ("startTime" only; a backward scan and a range scan of the startTime index;
--   its statistics counters, which need no privilege)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT (SELECT max("startTime") FROM "LiteLLM_SpendLogs" WHERE "startTime" < '10000-01-01') AS max_start,
       (SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE "startTime" >= '10000-01-01') AS out_of_range,
       (statement_timestamp() AT TIME ZONE 'UTC') AS db_now,
       date_part('epoch', statement_timestamp()) AS db_now_epoch,
       (SELECT sum(pg_stat_get_tuples_inserted(t.relid))::bigint  -- the table and, if partitioned, its partitions
        FROM (SELECT '"LiteLLM_SpendLogs"'::regclass AS relid
              UNION SELECT relid FROM pg_partition_tree('"LiteLLM_SpendLogs"'::regclass)) t) AS inserted
