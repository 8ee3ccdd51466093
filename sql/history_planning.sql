-- Purpose: make the cold start's history aggregates read only the pages of their span, in physical order
--   (:enable = 'off' before each aggregate, 'on' after): plain index scans (the planner's choice when
--   startTime is perfectly correlated with the heap) read a page at a time, and a sequential scan reads the whole
--   table for every span; a bitmap heap scan reads just the span's pages, prefetched (BENCHMARKS.md, cold start).
--   Transaction-local (is_local = true).
-- Binds: :enable ('on' or 'off')
-- Output values: enable_indexscan, enable_seqscan (the new settings)
-- Tables: none
-- Checked against: PostgreSQL 15 and 18
SELECT set_config('enable_indexscan', :enable, true) AS enable_indexscan,
       set_config('enable_seqscan', :enable, true) AS enable_seqscan
