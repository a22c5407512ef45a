-- compliance (.118): key custody that survives an attacker, and key generations (issue 8).
-- Design, threat model and the generation model: docs/compliance-hashing.md.
--
-- 1. Custody. Every key (hashing salts, vault keys) and every object a privileged function reads
--    or writes now belongs to compliance_keyholder: NOLOGIN, nobody is a member, no DAG can
--    connect as it. compliance_admin (the operators' login) keeps its audit tables and calls the
--    privileged functions; it can no longer read a key. Schema `compliance` is owned by the
--    key holder too (a schema owner may drop anything in it, so a login role must not own it).
-- 2. Generations. compliance.salts rows are key generations: status pending (made by a rotation,
--    used only for shadow builds), active (the one analytics uses), retired (the key bytes are
--    destroyed when the rotation completes: the retired key can produce nothing any more).
--    Family `erasure` is durable: never rotated by salt_rotation; stored references that must
--    outlive a rotation (right-to-be-forgotten tombstones) use it.
-- 3. The warehouse's key link (warehouse_key_sync) sees only WRAPPED keys: the export view
--    encrypts each salt with a wrap key shared with the warehouse's key holder (set once by
--    dataacuity.compliance.install_key_link()), so no login role reads a key here either.
-- 4. Vault audit through an autonomous write: rows of compliance.token_access_audit are inserted
--    over dblink by vault_auditor (LOGIN, INSERT-only), committed before any plaintext is returned;
--    the caller's ROLLBACK or SAVEPOINT cannot remove them. Tokenising is audited too.

-- ------------------------------------------------------------------ roles
DO $$
BEGIN
    CREATE ROLE compliance_keyholder NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
DO $$
BEGIN
    -- the autonomous audit writer: LOGIN (dblink needs one), may only INSERT audit rows.
    -- Its password is set by dataacuity.compliance.install_vault_audit_link() (user mapping only).
    CREATE ROLE vault_auditor LOGIN NOINHERIT CONNECTION LIMIT 16;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT CONNECT ON DATABASE compliance TO vault_auditor;
GRANT USAGE ON SCHEMA public TO compliance_keyholder;     -- pgcrypto

-- ------------------------------------------------------------------ dblink, reachable by the key holder only
CREATE SCHEMA vault_link;
REVOKE ALL ON SCHEMA vault_link FROM PUBLIC;
CREATE EXTENSION IF NOT EXISTS dblink SCHEMA vault_link;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vault_link FROM PUBLIC;
GRANT USAGE ON SCHEMA vault_link TO compliance_keyholder;
GRANT EXECUTE ON FUNCTION vault_link.dblink_exec(text, text, boolean) TO compliance_keyholder;
GRANT USAGE ON FOREIGN DATA WRAPPER dblink_fdw TO compliance_keyholder;
-- Placeholder address: install_vault_audit_link() points it at this server and sets the password.
CREATE SERVER vault_audit FOREIGN DATA WRAPPER dblink_fdw
    OPTIONS (host '127.0.0.1', port '5432', dbname 'compliance');
ALTER SERVER vault_audit OWNER TO compliance_keyholder;

-- ------------------------------------------------------------------ ownership: the key holder
ALTER SCHEMA compliance OWNER TO compliance_keyholder;
GRANT USAGE ON SCHEMA compliance TO compliance_admin, compliance_user, warehouse_key_sync, vault_auditor;
-- compliance_admin keeps creating its own audit tables (incident_log, deletion evidence, ...):
-- CREATE lets it add objects, never drop or replace the key holder's (only owners can).
GRANT CREATE ON SCHEMA compliance TO compliance_admin;

ALTER TABLE compliance.salts OWNER TO compliance_keyholder;
ALTER TABLE compliance.vault_keys OWNER TO compliance_keyholder;
ALTER TABLE compliance.token_vault OWNER TO compliance_keyholder;
ALTER TABLE compliance.token_access_audit OWNER TO compliance_keyholder;
ALTER TABLE compliance.hash_families OWNER TO compliance_keyholder;
ALTER TABLE compliance.token_families OWNER TO compliance_keyholder;
ALTER VIEW compliance.salt_status OWNER TO compliance_keyholder;
ALTER VIEW compliance.warehouse_key_export OWNER TO compliance_keyholder;
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN SELECT p.oid::regprocedure FROM pg_proc AS p WHERE p.pronamespace = 'compliance'::regnamespace LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO compliance_keyholder', fn);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC, compliance_admin, compliance_user', fn);
    END LOOP;
END $$;
REVOKE ALL ON compliance.salts, compliance.vault_keys, compliance.token_vault, compliance.token_access_audit
    FROM PUBLIC, compliance_admin, compliance_user;

SET LOCAL ROLE compliance_keyholder;

-- ------------------------------------------------------------------ generations
ALTER TABLE compliance.hash_families ADD COLUMN rotates boolean NOT NULL DEFAULT true;
INSERT INTO compliance.hash_families (family, description, rotates) VALUES
    ('erasure', 'durable references that must outlive a rotation (right-to-be-forgotten tombstones): '
                'never rotated by salt_rotation', false);

ALTER TABLE compliance.salts
    ALTER COLUMN salt DROP NOT NULL,                                  -- NULL once destroyed
    ADD COLUMN status       text        NOT NULL DEFAULT 'active'
                                        CHECK (status IN ('pending', 'active', 'retired')),
    ADD COLUMN activated_at timestamptz,
    ADD COLUMN destroyed_at timestamptz,
    ADD COLUMN rotation_id  bigint,
    ADD CONSTRAINT salts_key_present CHECK (salt IS NOT NULL OR status = 'retired');
UPDATE compliance.salts SET status = CASE WHEN is_retired THEN 'retired' ELSE 'active' END,
                            activated_at = created_at;
DROP INDEX compliance.salts_one_active_per_family;
CREATE UNIQUE INDEX salts_one_active_per_family ON compliance.salts (salt_family) WHERE status = 'active';
CREATE UNIQUE INDEX salts_one_pending_per_family ON compliance.salts (salt_family) WHERE status = 'pending';

INSERT INTO compliance.salts (salt_family, salt, rotation_reason, status, activated_at)
VALUES ('erasure', public.gen_random_bytes(32), 'initial salt (migration 0300)', 'active', now());

-- One row per rotation: who asked, why, what it did, how it ended (runbook 11.3 audit columns).
CREATE TABLE compliance.key_rotation (
    rotation_id      bigserial   PRIMARY KEY,
    families         text[]      NOT NULL,
    reason           text        NOT NULL,
    requested_by     text        NOT NULL,
    started_by       text        NOT NULL DEFAULT session_user,
    run_id           text,
    started_at       timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'building'
                                 CHECK (status IN ('building', 'swapped', 'completed', 'abandoned')),
    new_salt_ids     integer[]   NOT NULL DEFAULT '{}',
    retired_salt_ids integer[]   NOT NULL DEFAULT '{}',
    swapped_at       timestamptz,
    finished_at      timestamptz,
    last_error       text,
    evidence         jsonb       NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX key_rotation_one_open ON compliance.key_rotation ((true)) WHERE status IN ('building', 'swapped');

-- The same shape as the warehouse's key copy, so the hash functions are the same on both hosts.
CREATE VIEW compliance.hash_keys AS
SELECT salt_family, salt_id, salt, status
FROM compliance.salts
WHERE status IN ('active', 'pending') AND salt IS NOT NULL;

-- Fingerprints (first 16 hex of sha256(sha256(salt))) compare hosts without showing a key.
CREATE OR REPLACE VIEW compliance.salt_status AS
SELECT salt_id, salt_family, created_at, created_by, is_retired, retired_at, retired_by, rotation_reason,
       pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.sha256(salt)), 'hex'), 16) AS fingerprint,
       status, activated_at, destroyed_at, rotation_id
FROM compliance.salts;

-- Wrap key shared with the warehouse's key holder (install_key_link copies it once, superuser to
-- superuser). The export below carries keys encrypted with it: warehouse_key_sync never sees one.
CREATE TABLE compliance.key_wrap (
    wrap_id    integer     PRIMARY KEY DEFAULT 1 CHECK (wrap_id = 1),
    wrap_key   bytea       NOT NULL CHECK (octet_length(wrap_key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO compliance.key_wrap (wrap_key) VALUES (public.gen_random_bytes(32));
REVOKE ALL ON compliance.key_wrap FROM PUBLIC;

DROP VIEW compliance.warehouse_key_export;
CREATE VIEW compliance.warehouse_key_export AS
SELECT s.salt_id, s.salt_family,
       public.pgp_sym_encrypt_bytea(s.salt, pg_catalog.encode(w.wrap_key, 'hex'), 'cipher-algo=aes256') AS salt_wrapped,
       s.created_at, s.status
FROM compliance.salts AS s
CROSS JOIN compliance.key_wrap AS w
WHERE s.status IN ('active', 'pending') AND s.salt IS NOT NULL;
GRANT SELECT ON compliance.warehouse_key_export TO warehouse_key_sync;

-- ------------------------------------------------------------------ rotation (runbook 11.3)
-- Start (or resume) a rotation of `p_families`: a pending generation per family, generated here.
-- Returns the rotation id. Resuming the open rotation of the same families returns it unchanged.
CREATE FUNCTION compliance.begin_rotation(p_families text[], p_reason text, p_requested_by text, p_run_id text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_open  compliance.key_rotation;
    v_bad   text;
    v_id    bigint;
    v_new   integer[];
    v_fams  text[];
BEGIN
    IF p_families IS NULL OR pg_catalog.cardinality(p_families) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'salt rotation: no family given' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(pg_catalog.length(pg_catalog.btrim(p_reason)), 0) OPERATOR(pg_catalog.<) 10 THEN
        RAISE EXCEPTION 'salt rotation: a reason of at least 10 characters is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF COALESCE(pg_catalog.length(pg_catalog.btrim(p_requested_by)), 0) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'salt rotation: requested_by is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT f INTO v_bad FROM pg_catalog.unnest(p_families) AS f
    WHERE NOT EXISTS (SELECT 1 FROM compliance.hash_families AS h
                      WHERE h.family OPERATOR(pg_catalog.=) f AND h.rotates) LIMIT 1;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'salt rotation: % is not a rotating hash family', v_bad USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_fams := ARRAY(SELECT DISTINCT f FROM pg_catalog.unnest(p_families) AS f ORDER BY f);

    SELECT * INTO v_open FROM compliance.key_rotation AS r WHERE r.status IN ('building', 'swapped') FOR UPDATE;
    IF FOUND THEN
        IF v_open.families OPERATOR(pg_catalog.=) v_fams THEN
            RETURN v_open.rotation_id;   -- resume
        END IF;
        RAISE EXCEPTION 'salt rotation % (families %) is still open: finish or abandon it first',
            v_open.rotation_id, v_open.families USING ERRCODE = 'object_in_use';
    END IF;

    INSERT INTO compliance.key_rotation (families, reason, requested_by, run_id)
    VALUES (v_fams, p_reason, p_requested_by, p_run_id)
    RETURNING rotation_id INTO v_id;
    WITH made AS (
        INSERT INTO compliance.salts (salt_family, salt, created_by, rotation_reason, status, rotation_id)
        SELECT f, public.gen_random_bytes(32), session_user, p_reason, 'pending', v_id
        FROM pg_catalog.unnest(v_fams) AS f
        RETURNING salt_id)
    SELECT pg_catalog.array_agg(salt_id ORDER BY salt_id) INTO v_new FROM made;
    UPDATE compliance.key_rotation SET new_salt_ids = v_new WHERE rotation_id OPERATOR(pg_catalog.=) v_id;
    RETURN v_id;
END $$;

-- The warehouse swapped to the new generation (called right after the swap committed there).
CREATE FUNCTION compliance.mark_rotation_swapped(p_rotation_id bigint, p_evidence jsonb)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE compliance.key_rotation
       SET status = 'swapped', swapped_at = COALESCE(swapped_at, pg_catalog.now()),
           evidence = evidence OPERATOR(pg_catalog.||) COALESCE(p_evidence, '{}'::jsonb)
     WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id AND status IN ('building', 'swapped');
$$;

-- Finish: pending -> active, active -> retired with who/when/why, and the retired key bytes
-- destroyed. Idempotent (a completed rotation is returned as is).
CREATE FUNCTION compliance.complete_rotation(p_rotation_id bigint)
    RETURNS compliance.key_rotation
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rot     compliance.key_rotation;
    v_retired integer[];
BEGIN
    SELECT * INTO v_rot FROM compliance.key_rotation WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'salt rotation % does not exist', p_rotation_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_rot.status OPERATOR(pg_catalog.=) 'completed' THEN
        RETURN v_rot;
    END IF;
    IF v_rot.status OPERATOR(pg_catalog.<>) 'swapped' THEN
        RAISE EXCEPTION 'salt rotation % is %, not swapped: the warehouse still uses the old generation',
            p_rotation_id, v_rot.status USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    WITH retired AS (
        UPDATE compliance.salts AS s
           SET status = 'retired', is_retired = true, retired_at = pg_catalog.now(), retired_by = v_rot.requested_by,
               rotation_reason = v_rot.reason, salt = NULL, destroyed_at = pg_catalog.now()
         WHERE s.status OPERATOR(pg_catalog.=) 'active' AND s.salt_family OPERATOR(pg_catalog.=) ANY (v_rot.families)
        RETURNING s.salt_id)
    SELECT COALESCE(pg_catalog.array_agg(salt_id ORDER BY salt_id), '{}') INTO v_retired FROM retired;
    UPDATE compliance.salts AS s SET status = 'active', activated_at = pg_catalog.now()
     WHERE s.status OPERATOR(pg_catalog.=) 'pending' AND s.rotation_id OPERATOR(pg_catalog.=) p_rotation_id;
    UPDATE compliance.key_rotation
       SET status = 'completed', finished_at = pg_catalog.now(), retired_salt_ids = v_retired, last_error = NULL
     WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id
    RETURNING * INTO v_rot;
    RETURN v_rot;
END $$;

-- Give up a rotation that has not swapped: its pending keys are destroyed, analytics never saw them.
CREATE FUNCTION compliance.abandon_rotation(p_rotation_id bigint, p_error text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM compliance.key_rotation
               WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id AND status OPERATOR(pg_catalog.=) 'swapped') THEN
        RAISE EXCEPTION 'salt rotation % has swapped: complete it, do not abandon it', p_rotation_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    DELETE FROM compliance.salts AS s
     WHERE s.status OPERATOR(pg_catalog.=) 'pending' AND s.rotation_id OPERATOR(pg_catalog.=) p_rotation_id;
    UPDATE compliance.key_rotation
       SET status = 'abandoned', finished_at = pg_catalog.now(), last_error = p_error
     WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id AND status OPERATOR(pg_catalog.=) 'building';
END $$;

-- A failed step: recorded on the open rotation (the rerun continues it).
CREATE FUNCTION compliance.note_rotation_error(p_rotation_id bigint, p_error text)
    RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE compliance.key_rotation SET last_error = pg_catalog.left(p_error, 2000)
     WHERE rotation_id OPERATOR(pg_catalog.=) p_rotation_id;
$$;

-- One-shot rotation of one family (no derived data to rebuild: tests, ad-hoc). The salt_rotation
-- DAG uses begin/mark_swapped/complete instead.
DROP FUNCTION compliance.rotate_salt(text, text);
CREATE FUNCTION compliance.rotate_salt(p_family text, p_reason text) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id  bigint;
    v_new integer;
BEGIN
    v_id := compliance.begin_rotation(ARRAY[p_family], p_reason, session_user, NULL);
    PERFORM compliance.mark_rotation_swapped(v_id, '{"one_shot": true}'::jsonb);
    PERFORM compliance.complete_rotation(v_id);
    SELECT s.salt_id INTO v_new FROM compliance.salts AS s
     WHERE s.salt_family OPERATOR(pg_catalog.=) p_family AND s.status OPERATOR(pg_catalog.=) 'active';
    RETURN v_new;
END $$;

-- ------------------------------------------------------------------ vault: audited, autonomously
ALTER TABLE compliance.token_access_audit DROP CONSTRAINT token_access_audit_action_check;
ALTER TABLE compliance.token_access_audit
    ADD CONSTRAINT token_access_audit_action_check CHECK (action IN ('detokenise', 'denied', 'tokenise'));

-- Insert-only for the audit writer; readable by reviewers; nobody may change or delete a row.
GRANT INSERT ON compliance.token_access_audit TO vault_auditor;
GRANT USAGE ON SEQUENCE compliance.token_access_audit_access_id_seq TO vault_auditor;
GRANT SELECT ON compliance.token_access_audit TO compliance_user, compliance_admin;

-- Write audit rows in their own transaction (dblink, as vault_auditor): committed before this
-- returns, whatever the caller does with its own transaction afterwards. Fails if it cannot.
CREATE FUNCTION compliance.audit_vault_access(p_by text, p_family text, p_tokens text[], p_action text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_tokens IS NULL OR pg_catalog.cardinality(p_tokens) OPERATOR(pg_catalog.=) 0 THEN
        RETURN;
    END IF;
    PERFORM vault_link.dblink_exec(
        'vault_audit'::text,
        pg_catalog.format(
            'INSERT INTO compliance.token_access_audit (accessed_by, token_family, token, action) '
            'SELECT %L, %L, t, %L FROM pg_catalog.unnest(%L::pg_catalog.text[]) AS t',
            p_by, p_family, p_action, p_tokens),
        true);
END $$;

CREATE OR REPLACE FUNCTION compliance.tokenise(p_family text, p_value text) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_token text;
BEGIN
    SELECT t.token INTO v_token FROM compliance.tokenise_many(p_family, ARRAY[p_value]) AS t;
    RETURN v_token;
END $$;

-- Set-based tokenising: new values get a token, and every value (new or already known: a
-- lookup is an oracle) is audited as 'tokenise' in one autonomous write.
DROP FUNCTION compliance.tokenise_many(text, text[]);
CREATE FUNCTION compliance.tokenise_many(p_family text, p_values text[])
    RETURNS TABLE (value text, token text)
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_digest_key bytea;
    v_enc_key    text;
    v_values     text[];
    v_tokens     text[];
BEGIN
    -- No temporary table here: a caller could pre-create one with a trigger that would run with
    -- this function's rights. Arrays and CTEs only.
    IF NOT EXISTS (SELECT 1 FROM compliance.token_families AS f WHERE f.family OPERATOR(pg_catalog.=) p_family) THEN
        RAISE EXCEPTION 'unknown token family %', p_family USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_digest_key := (SELECT k.key FROM compliance.vault_keys AS k WHERE k.purpose OPERATOR(pg_catalog.=) 'digest');
    v_enc_key := pg_catalog.encode(
        (SELECT k.key FROM compliance.vault_keys AS k WHERE k.purpose OPERATOR(pg_catalog.=) 'encryption'), 'base64');
    WITH input AS (
        SELECT DISTINCT v.v AS value,
               public.hmac(pg_catalog.convert_to(p_family OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||)
                                                 compliance.normalise(p_family, v.v), 'UTF8'),
                           v_digest_key, 'sha256') AS digest
        FROM pg_catalog.unnest(p_values) AS v(v)
        WHERE v.v IS NOT NULL
    ), made AS (
        INSERT INTO compliance.token_vault (token, token_family, value_digest, value_encrypted)
        SELECT 'tok_' OPERATOR(pg_catalog.||) p_family OPERATOR(pg_catalog.||) '_'
                   OPERATOR(pg_catalog.||) pg_catalog.encode(public.gen_random_bytes(16), 'hex'),
               p_family, d.digest, public.pgp_sym_encrypt(d.value, v_enc_key, 'cipher-algo=aes256')
        FROM (SELECT DISTINCT ON (i.digest) i.digest, i.value FROM input AS i) AS d
        ON CONFLICT (token_family, value_digest) DO NOTHING
        RETURNING compliance.token_vault.token AS new_token, compliance.token_vault.value_digest AS new_digest
    )
    SELECT pg_catalog.array_agg(i.value), pg_catalog.array_agg(COALESCE(m.new_token, tv.token))
      INTO v_values, v_tokens
      FROM input AS i
      LEFT JOIN made AS m ON m.new_digest OPERATOR(pg_catalog.=) i.digest
      LEFT JOIN compliance.token_vault AS tv
        ON tv.token_family OPERATOR(pg_catalog.=) p_family AND tv.value_digest OPERATOR(pg_catalog.=) i.digest;
    -- every value asked for is audited, new or already known (a lookup is an oracle too)
    PERFORM compliance.audit_vault_access(
        session_user, p_family, ARRAY(SELECT DISTINCT t FROM pg_catalog.unnest(v_tokens) AS t), 'tokenise');
    RETURN QUERY SELECT u.value, u.token FROM ROWS FROM (unnest(v_values), unnest(v_tokens)) AS u(value, token);
END $$;

-- Detokenise: compliance_user only. The audit row is committed (autonomously) BEFORE the value
-- is decrypted; if it cannot be written, nothing is returned.
CREATE OR REPLACE FUNCTION compliance.detokenise(p_token text) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_family    text;
    v_encrypted bytea;
BEGIN
    SELECT tv.token_family, tv.value_encrypted INTO v_family, v_encrypted
      FROM compliance.token_vault AS tv WHERE tv.token OPERATOR(pg_catalog.=) p_token;
    IF NOT pg_catalog.pg_has_role(session_user, 'compliance_user', 'MEMBER')
       OR (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname OPERATOR(pg_catalog.=) session_user) THEN
        PERFORM compliance.audit_vault_access(session_user, COALESCE(v_family, 'unknown'), ARRAY[p_token], 'denied');
        RAISE WARNING 'detokenise denied for role %: only compliance_user may detokenise', session_user;
        RETURN NULL;
    END IF;
    PERFORM compliance.audit_vault_access(session_user, COALESCE(v_family, 'unknown'), ARRAY[p_token], 'detokenise');
    IF v_encrypted IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN public.pgp_sym_decrypt(
        v_encrypted,
        pg_catalog.encode((SELECT k.key FROM compliance.vault_keys AS k WHERE k.purpose OPERATOR(pg_catalog.=) 'encryption'), 'base64'));
END $$;

-- ------------------------------------------------------------------ privileges: named roles only
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN SELECT p.oid::regprocedure FROM pg_proc AS p WHERE p.pronamespace = 'compliance'::regnamespace LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc AS p
        WHERE p.pronamespace = 'compliance'::regnamespace AND p.proname ~ '^tokenise'
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO compliance_user, compliance_admin', fn);
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION compliance.detokenise(text) TO compliance_user;
GRANT EXECUTE ON FUNCTION compliance.begin_rotation(text[], text, text, text),
                          compliance.mark_rotation_swapped(bigint, jsonb),
                          compliance.complete_rotation(bigint),
                          compliance.abandon_rotation(bigint, text),
                          compliance.note_rotation_error(bigint, text),
                          compliance.rotate_salt(text, text)
    TO compliance_admin;
GRANT SELECT ON compliance.hash_families, compliance.token_families, compliance.salt_status, compliance.key_rotation
    TO compliance_user, compliance_admin;

RESET ROLE;
