-- compliance database on .118 (runbook 0.5, §9): salts, token vault and the audit trails.
-- compliance_admin owns everything here; it is the only role that can read a salt.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

REVOKE ALL ON DATABASE compliance FROM PUBLIC;
GRANT CONNECT ON DATABASE compliance TO compliance_admin, compliance_user;
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA compliance AUTHORIZATION compliance_admin;
GRANT USAGE ON SCHEMA compliance TO compliance_user;

-- HMAC keys. Generated inside the database (gen_random_bytes), never typed or exported.
CREATE TABLE compliance.salts (
    salt_id         serial      PRIMARY KEY,
    salt_family     text        NOT NULL DEFAULT 'user',
    salt            bytea       NOT NULL CHECK (octet_length(salt) >= 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text        NOT NULL DEFAULT current_user,
    is_retired      boolean     NOT NULL DEFAULT false,
    retired_at      timestamptz,
    retired_by      text,
    rotation_reason text
);
CREATE UNIQUE INDEX salts_one_active_per_family ON compliance.salts (salt_family) WHERE NOT is_retired;

-- Reversible tokens for fields with a documented business need (runbook 2.2).
CREATE TABLE compliance.token_vault (
    token           text        PRIMARY KEY,
    token_family    text        NOT NULL,
    value_digest    bytea       NOT NULL,    -- keyed digest of the value: stable token lookup
    value_encrypted bytea       NOT NULL,    -- pgp_sym_encrypt(value, vault key)
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (token_family, value_digest)
);

CREATE TABLE compliance.token_access_audit (
    access_id       bigserial   PRIMARY KEY,
    accessed_by     text        NOT NULL DEFAULT session_user,
    accessed_at     timestamptz NOT NULL DEFAULT now(),
    token_family    text        NOT NULL,
    token           text        NOT NULL,
    action          text        NOT NULL CHECK (action IN ('detokenise', 'denied'))
);

CREATE TABLE compliance.incident_log (
    incident_id     bigserial   PRIMARY KEY,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    kind            text        NOT NULL,    -- pii_leak, kill_switch_engaged, kill_switch_released, ...
    severity        text        NOT NULL CHECK (severity IN ('P1', 'P2', 'P3')),
    actor           text        NOT NULL,
    summary         text        NOT NULL,
    details         jsonb       NOT NULL DEFAULT '{}'
);

CREATE TABLE compliance.deletion_completion (
    completion_id   bigserial   PRIMARY KEY,
    request_id      text        NOT NULL UNIQUE,
    user_ref        text        NOT NULL,    -- tombstone: keyed hash, never the raw user id
    requested_at    timestamptz NOT NULL,
    completed_at    timestamptz NOT NULL DEFAULT now(),
    evidence        jsonb       NOT NULL     -- rows removed per layer and app schema
);

ALTER TABLE compliance.salts OWNER TO compliance_admin;
ALTER TABLE compliance.token_vault OWNER TO compliance_admin;
ALTER TABLE compliance.token_access_audit OWNER TO compliance_admin;
ALTER TABLE compliance.incident_log OWNER TO compliance_admin;
ALTER TABLE compliance.deletion_completion OWNER TO compliance_admin;

-- Reviewers read the trails, never the salts or the vault's contents.
GRANT SELECT ON compliance.token_access_audit, compliance.incident_log, compliance.deletion_completion
    TO compliance_user;
