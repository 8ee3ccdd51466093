-- Purpose: (admin, migration 0001) the table recording which login roles litellm-spend-exporter manages, in
--   its own schema; nothing of LiteLLM's (Prisma-managed) is touched.
-- Binds: none
-- Output: none (DDL)
CREATE TABLE IF NOT EXISTS litellm_exporter.managed_role (
    role_name     text PRIMARY KEY,
    purpose       text NOT NULL CHECK (purpose IN ('exporter', 'grafana')),
    created_by_us boolean NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON SCHEMA litellm_exporter FROM PUBLIC;
REVOKE ALL ON litellm_exporter.managed_role FROM PUBLIC;
