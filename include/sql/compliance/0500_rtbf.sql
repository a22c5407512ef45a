-- compliance (.118): right-to-be-forgotten (runbook §11.4, DESIGN §3 "Erasure wins over every copy")
-- and retention governance.
--
-- Tombstones, request subjects and legal holds are keyed by the DURABLE key family `erasure`
-- (docs/compliance-hashing.md: never rotated by salt_rotation), so a tombstone written today
-- matches the same user after any number of rotations: ref = HMAC-SHA256(erasure key, value) for a
-- user id (= compliance.hash_erasure(user_id)), and HMAC(erasure key, kind || ':' || normalised
-- value) for an email / phone / SA ID. A tombstone does not identify the user to anyone who reads it
-- (an unkeyed hash of an id or SA ID is reversible by enumeration; this is not without the key).
-- The warehouse tests membership with its protected copy of the erasure key
-- (include/sql/warehouse/0900_rtbf.sql).
--
-- While a request is open its subject is kept sealed (pgp_sym_encrypt with a key only the key
-- holder reads) so a request paused by a legal hold or a crash resumes without anyone re-typing
-- the id; the seal is wiped when the request closes. No table here holds an identifier in clear.
--
-- Ownership: the audit tables belong to compliance_admin (the operators' login, like
-- incident_log); every function that touches a key or the vault belongs to compliance_keyholder
-- (NOLOGIN, no members) and is SECURITY DEFINER with a pinned search_path, EXECUTE for
-- compliance_admin only.

-- ------------------------------------------------------------------ audit tables (compliance_admin)
SET LOCAL ROLE compliance_admin;

CREATE TABLE compliance.rtbf_request (
    request_id     text        PRIMARY KEY CHECK (request_id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{2,79}$'),
    subject_ref    text        NOT NULL CHECK (subject_ref ~ '^[0-9a-f]{64}$'),   -- erasure ref of the user
    subject_sealed bytea,                 -- sealed subject while open; NULL once closed
    source         text        NOT NULL CHECK (source IN ('manual', 'sweep')),
    requested_at   timestamptz NOT NULL,
    requested_by   text        NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    status         text        NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'held', 'cascaded', 'residual', 'closed')),
    cascaded_at    timestamptz,           -- every layer cascaded (the 7-day SLA)
    closed_at      timestamptz,           -- verified clean and closed (the 30-day SLA)
    last_run_id    text,
    CHECK (status <> 'closed' OR (closed_at IS NOT NULL AND subject_sealed IS NULL))
);
CREATE INDEX rtbf_request_open ON compliance.rtbf_request (requested_at) WHERE status <> 'closed';
CREATE INDEX rtbf_request_subject ON compliance.rtbf_request (subject_ref);

-- One row per request, run, host, layer and table: what the cascade removed (or found clean).
CREATE TABLE compliance.rtbf_evidence (
    evidence_id   bigserial   PRIMARY KEY,
    journal_id    uuid        NOT NULL UNIQUE,    -- id of the journal row written with the delete
    request_id    text        NOT NULL REFERENCES compliance.rtbf_request (request_id),
    run_id        text        NOT NULL,
    host          text        NOT NULL,           -- warehouse_106 | analytics_104 | compliance_118
    layer         text        NOT NULL,           -- raw | intermediate | marts | ml | analytics | pushback | vault | aggregate
    target        text        NOT NULL,           -- schema.table(column), never a value
    action        text        NOT NULL,           -- deleted | redacted | recomputed
    rows_affected bigint      NOT NULL CHECK (rows_affected >= 0),
    done_at       timestamptz NOT NULL,           -- when the delete committed
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rtbf_evidence_request ON compliance.rtbf_evidence (request_id, done_at);

-- The request's life: registered, held, resumed, cascaded, residual_found, closed, ...
CREATE TABLE compliance.rtbf_event (
    event_id    bigserial   PRIMARY KEY,
    request_id  text        NOT NULL REFERENCES compliance.rtbf_request (request_id),
    at          timestamptz NOT NULL DEFAULT now(),
    event       text        NOT NULL,
    run_id      text,
    detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX rtbf_event_request ON compliance.rtbf_event (request_id, at);

-- Tombstones: what the extract, transform, push-back, backfills and full refreshes must never let
-- back in. kind 'user' = a user id; 'email' / 'phone' / 'id_number' = the user's identifiers, so
-- another user's row that names them (a contact, a recipient) is blanked on the way in.
CREATE TABLE compliance.rtbf_tombstone (
    tombstone_ref text        PRIMARY KEY CHECK (tombstone_ref ~ '^[0-9a-f]{64}$'),
    kind          text        NOT NULL CHECK (kind IN ('user', 'email', 'phone', 'id_number')),
    request_id    text        NOT NULL REFERENCES compliance.rtbf_request (request_id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Legal hold (who, why, case, until): pauses every request of the subject and retention of their rows.
CREATE TABLE compliance.legal_hold (
    hold_id     bigserial   PRIMARY KEY,
    subject_ref text        NOT NULL CHECK (subject_ref ~ '^[0-9a-f]{64}$'),
    case_ref    text        NOT NULL CHECK (length(btrim(case_ref)) >= 3),
    placed_by   text        NOT NULL CHECK (length(btrim(placed_by)) >= 2),
    reason      text        NOT NULL CHECK (length(btrim(reason)) >= 10),
    placed_at   timestamptz NOT NULL DEFAULT now(),
    hold_until  timestamptz,              -- NULL: until lifted
    lifted_at   timestamptz,
    lifted_by   text,
    lift_reason text
);
CREATE INDEX legal_hold_open_by_subject ON compliance.legal_hold (subject_ref) WHERE lifted_at IS NULL;

-- For the app team: notify the user that the request is done (nothing is emailed from here).
CREATE TABLE compliance.rtbf_confirmation_outbox (
    request_id   text        PRIMARY KEY REFERENCES compliance.rtbf_request (request_id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    requested_at timestamptz NOT NULL,
    completed_at timestamptz NOT NULL,
    summary      jsonb       NOT NULL,     -- tables cleaned and rows removed per layer; no identifier
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered')),
    delivered_at timestamptz
);

-- Governance log: what retention (and other housekeeping) removed, where, why.
CREATE TABLE compliance.governance_log (
    log_id        bigserial   PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    action        text        NOT NULL,     -- retention_delete
    host          text        NOT NULL,
    target        text        NOT NULL,
    rows_affected bigint      NOT NULL CHECK (rows_affected >= 0),
    cutoff        timestamptz,
    run_id        text,
    details       jsonb       NOT NULL DEFAULT '{}'
);

CREATE VIEW compliance.legal_hold_active AS
SELECT hold_id, subject_ref, case_ref, placed_by, reason, placed_at, hold_until
FROM compliance.legal_hold
WHERE lifted_at IS NULL AND (hold_until IS NULL OR hold_until > now());

-- The SLA clock (runbook §11.4: cascade within 7 days, close within 30). Held requests are shown
-- separately (their clock is paused by the hold and reported as such).
CREATE VIEW compliance.rtbf_sla_report AS
SELECT r.request_id,
       r.status,
       r.requested_at,
       now() - r.requested_at AS age,
       r.requested_at + interval '7 days' AS cascade_due,
       r.requested_at + interval '30 days' AS close_due,
       r.cascaded_at,
       r.closed_at,
       EXISTS (SELECT 1 FROM compliance.legal_hold_active AS h WHERE h.subject_ref = r.subject_ref) AS held,
       CASE
           WHEN r.status = 'closed' THEN 'closed'
           WHEN EXISTS (SELECT 1 FROM compliance.legal_hold_active AS h WHERE h.subject_ref = r.subject_ref)
               THEN 'held'
           WHEN r.cascaded_at IS NULL AND now() - r.requested_at > interval '5 days' THEN 'cascade_at_risk'
           WHEN r.closed_at IS NULL AND now() - r.requested_at > interval '25 days' THEN 'close_at_risk'
           ELSE 'on_track'
       END AS sla_state
FROM compliance.rtbf_request AS r;

-- What the warehouse's link may pull over postgres_fdw: tombstone refs (never a key, never a subject).
CREATE VIEW compliance.warehouse_tombstone_export AS
SELECT tombstone_ref, kind, created_at FROM compliance.rtbf_tombstone;

REVOKE ALL ON compliance.rtbf_request, compliance.rtbf_evidence, compliance.rtbf_event, compliance.rtbf_tombstone,
    compliance.legal_hold, compliance.rtbf_confirmation_outbox, compliance.governance_log,
    compliance.legal_hold_active, compliance.rtbf_sla_report, compliance.warehouse_tombstone_export FROM PUBLIC;
-- Reviewers read the trails (no identifiers in any of them; the sealed subject is not granted).
GRANT SELECT (request_id, subject_ref, source, requested_at, requested_by, registered_at, status, cascaded_at,
              closed_at, last_run_id) ON compliance.rtbf_request TO compliance_user;
GRANT SELECT ON compliance.rtbf_evidence, compliance.rtbf_event, compliance.legal_hold, compliance.legal_hold_active,
    compliance.rtbf_sla_report, compliance.rtbf_confirmation_outbox, compliance.governance_log TO compliance_user;
GRANT SELECT ON compliance.warehouse_tombstone_export TO warehouse_key_sync;

RESET ROLE;

-- ------------------------------------------------------------------ keyed functions (compliance_keyholder)
SET LOCAL ROLE compliance_keyholder;

-- The seal key for open requests' subjects. Never exported.
CREATE TABLE compliance.rtbf_seal_key (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    key        bytea       NOT NULL CHECK (octet_length(key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO compliance.rtbf_seal_key (key) VALUES (public.gen_random_bytes(32));
REVOKE ALL ON compliance.rtbf_seal_key FROM PUBLIC;

-- The erasure ref of a value. kind: user (= compliance.hash_erasure(id)) | email | phone | id_number.
CREATE FUNCTION compliance.rtbf_ref(p_kind pg_catalog.text, p_value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(
               CASE WHEN p_kind OPERATOR(pg_catalog.=) 'user'::pg_catalog.text THEN p_value
                    ELSE p_kind OPERATOR(pg_catalog.||) ':'::pg_catalog.text OPERATOR(pg_catalog.||)
                         compliance.normalise(p_kind, p_value) END, 'UTF8'::pg_catalog.name),
               k.salt, 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
    FROM compliance.salts AS k
    WHERE k.salt_family OPERATOR(pg_catalog.=) 'erasure'::pg_catalog.text
      AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text
$$;

CREATE FUNCTION compliance.rtbf_seal(p_subject pg_catalog.text) RETURNS pg_catalog.bytea
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT public.pgp_sym_encrypt(p_subject, pg_catalog.encode(k.key, 'base64'::pg_catalog.text),
                                  'cipher-algo=aes256, s2k-mode=1, compress-algo=0'::pg_catalog.text)
    FROM compliance.rtbf_seal_key AS k
$$;

CREATE FUNCTION compliance.rtbf_unseal(p_sealed pg_catalog.bytea) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT public.pgp_sym_decrypt(p_sealed, pg_catalog.encode(k.key, 'base64'::pg_catalog.text))
    FROM compliance.rtbf_seal_key AS k
$$;

-- The user's pseudonym under every generation of the 'user' family that can still have data
-- (active, and pending during a rotation; retired keys are destroyed and hash nothing).
CREATE FUNCTION compliance.rtbf_user_pseudonyms(p_user_id pg_catalog.text)
    RETURNS TABLE (salt_id pg_catalog.int4, status pg_catalog.text, pseudonym pg_catalog.text)
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.salt_id, s.status,
           pg_catalog.encode(public.hmac(pg_catalog.convert_to(p_user_id, 'UTF8'::pg_catalog.name), s.salt,
                                         'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
    FROM compliance.salts AS s
    WHERE s.salt_family OPERATOR(pg_catalog.=) 'user'::pg_catalog.text AND s.salt IS NOT NULL
    ORDER BY s.salt_id
$$;

-- Hashes of the user's other identifiers (email, phone, SA ID, device, ip) under every generation
-- that can still have data: columns like recipient_phone_hash hold them.
CREATE FUNCTION compliance.rtbf_value_pseudonyms(p_family pg_catalog.text, p_values pg_catalog.text[])
    RETURNS TABLE (salt_id pg_catalog.int4, pseudonym pg_catalog.text)
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.salt_id,
           pg_catalog.encode(public.hmac(pg_catalog.convert_to(compliance.normalise(p_family, v.value),
                                                               'UTF8'::pg_catalog.name),
                                         s.salt, 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
    FROM compliance.salts AS s
    CROSS JOIN pg_catalog.unnest(p_values) AS v(value)
    WHERE s.salt_family OPERATOR(pg_catalog.=) p_family AND s.salt IS NOT NULL AND v.value IS NOT NULL
      AND p_family OPERATOR(pg_catalog.<>) 'erasure'::pg_catalog.text
$$;

-- Vault tokens of the user's values (creates none, decrypts nothing).
CREATE FUNCTION compliance.rtbf_vault_tokens(p_family pg_catalog.text, p_values pg_catalog.text[])
    RETURNS TABLE (token pg_catalog.text)
    LANGUAGE sql STABLE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.token
    FROM compliance.token_vault AS v
    WHERE v.token_family OPERATOR(pg_catalog.=) p_family
      AND v.value_digest OPERATOR(pg_catalog.=) ANY (ARRAY(
          SELECT public.hmac(pg_catalog.convert_to(p_family OPERATOR(pg_catalog.||) ':'::pg_catalog.text
                                                   OPERATOR(pg_catalog.||) compliance.normalise(p_family, x.value),
                                                   'UTF8'::pg_catalog.name),
                             k.key, 'sha256'::pg_catalog.text)
          FROM pg_catalog.unnest(p_values) AS x(value)
          CROSS JOIN compliance.vault_keys AS k
          WHERE k.purpose OPERATOR(pg_catalog.=) 'digest'::pg_catalog.text AND x.value IS NOT NULL))
$$;

-- The vault forgets these tokens (the user's values). Returns how many it held.
CREATE FUNCTION compliance.rtbf_erase_vault_tokens(p_tokens pg_catalog.text[]) RETURNS pg_catalog.int8
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM compliance.token_vault AS v
        WHERE v.token OPERATOR(pg_catalog.=) ANY (p_tokens)
        RETURNING 1
    )
    SELECT pg_catalog.count(*) FROM gone
$$;

DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc AS p
        WHERE p.pronamespace = 'compliance'::regnamespace AND p.proname ~ '^rtbf_'
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO compliance_admin', fn);
    END LOOP;
END $$;

RESET ROLE;
