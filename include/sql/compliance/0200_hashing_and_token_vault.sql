-- compliance database on .118: keyed hashing (runbook 2.1) and the token vault (runbook 2.2).
--
-- Hashing: compliance.hash_<family>(value) = lowercase hex of HMAC-SHA256(normalised value, key),
-- the key being the active salt of that family in compliance.salts (one salt per family, so a
-- device hash cannot be joined to a user hash). Salts are generated here with gen_random_bytes and
-- are readable only by compliance_admin (the owner of every object below): the functions are
-- SECURITY DEFINER and callers receive hashes, never keys.
--
-- The warehouse (.106) computes the same hashes with its own protected copy of the active salts,
-- pulled over postgres_fdw by compliance.refresh_hash_keys() on .106 as the login role
-- warehouse_key_sync, which can read exactly one view here (compliance.warehouse_key_export).
-- Its password is set by dataacuity.compliance.install_key_link() and lives only in the
-- warehouse's user mapping. See docs/compliance-hashing.md for the threat model.
--
-- Token vault: compliance.tokenise_<family>(value) returns a stable token `tok_<family>_<32 hex>`;
-- compliance.detokenise(token) is for compliance_user only and writes every access to
-- compliance.token_access_audit (monitoring query 10.5).

-- ------------------------------------------------------------------ roles (cluster-wide)
DO $$
BEGIN
    -- postgres_fdw login of the warehouse's key holder; reads compliance.warehouse_key_export only.
    -- LOGIN without a password until install_key_link() sets one (scram auth refuses it until then).
    CREATE ROLE warehouse_key_sync LOGIN NOINHERIT CONNECTION LIMIT 4;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT CONNECT ON DATABASE compliance TO warehouse_key_sync;
GRANT USAGE ON SCHEMA compliance TO warehouse_key_sync;

-- compliance_admin owns the functions below and must reach pgcrypto (installed in public).
GRANT USAGE ON SCHEMA public TO compliance_admin;

-- Everything below is created by (so owned by) compliance_admin.
SET LOCAL ROLE compliance_admin;

-- ------------------------------------------------------------------ hash families and salts
CREATE TABLE compliance.hash_families (
    family      text PRIMARY KEY CHECK (family ~ '^[a-z][a-z_]*$'),
    description text NOT NULL
);
INSERT INTO compliance.hash_families (family, description) VALUES
    ('user',      'auth_db.users.id and every registry user_column (user_hash, merchant_hash, ...)'),
    ('device',    'device ids, card uids'),
    ('ip',        'IP addresses'),
    ('email',     'email addresses (lower-cased, trimmed)'),
    ('phone',     'SA phone numbers (normalised to 27 + 9 digits)'),
    ('id_number', 'SA ID numbers and other identity document numbers (digits only)');

-- One active salt per family, generated inside the database.
INSERT INTO compliance.salts (salt_family, salt, rotation_reason)
SELECT f.family, public.gen_random_bytes(32), 'initial salt (migration 0200)'
FROM compliance.hash_families AS f
WHERE NOT EXISTS (
    SELECT 1 FROM compliance.salts AS s WHERE s.salt_family = f.family AND NOT s.is_retired
);

-- Normalisation before hashing (no secret: plain, inlinable, callable by anyone).
CREATE FUNCTION compliance.normalise(family text, value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE family
        WHEN 'email' THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN 'phone' THEN (
            SELECT CASE
                WHEN d.digits ~ '^0027[0-9]{9}$' THEN '27' || pg_catalog.right(d.digits, 9)
                WHEN d.digits ~ '^27[0-9]{9}$' THEN d.digits
                WHEN d.digits ~ '^0[0-9]{9}$' THEN '27' || pg_catalog.right(d.digits, 9)
                ELSE d.digits
            END
            FROM (SELECT pg_catalog.regexp_replace(value, '[^0-9]', '', 'g') AS digits) AS d)
        WHEN 'id_number' THEN pg_catalog.regexp_replace(value, '[^0-9A-Za-z]', '', 'g')
        WHEN 'device' THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN 'ip' THEN pg_catalog.btrim(value)
        ELSE value
    END
$$;

-- The generic keyed hash. SECURITY DEFINER: runs as compliance_admin, the only reader of salts.
-- Every name is schema-qualified instead of `SET search_path` (a per-call GUC change that costs
-- more than the hash itself); the function is therefore safe under any caller search_path.
CREATE FUNCTION compliance.hash(family text, value text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT pg_catalog.encode(
        public.hmac(pg_catalog.convert_to(compliance.normalise(family, value), 'UTF8'), s.salt, 'sha256'),
        'hex')
    FROM compliance.salts AS s
    WHERE s.salt_family OPERATOR(pg_catalog.=) family AND NOT s.is_retired
$$;

-- Set-based form: one key lookup per call, not per value (the fast path for bulk work).
CREATE FUNCTION compliance.hash_many(family text, vals text[])
    RETURNS TABLE (value text, hash text)
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT v.value,
           pg_catalog.encode(
               public.hmac(pg_catalog.convert_to(compliance.normalise(family, v.value), 'UTF8'), s.salt, 'sha256'),
               'hex')
    FROM compliance.salts AS s
    CROSS JOIN LATERAL pg_catalog.unnest(vals) AS v(value)
    WHERE s.salt_family OPERATOR(pg_catalog.=) family AND NOT s.is_retired
      AND v.value IS NOT NULL
$$;

-- Per-family functions (runbook 2.1): compliance.hash_user('test') returns 64 hex characters.
DO $$
DECLARE
    f text;
BEGIN
    FOR f IN SELECT family FROM compliance.hash_families ORDER BY family LOOP
        EXECUTE format($fn$
            CREATE FUNCTION compliance.%1$I(value text) RETURNS text
                LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
            AS $body$
                SELECT pg_catalog.encode(
                    public.hmac(pg_catalog.convert_to(compliance.normalise(%2$L, value), 'UTF8'), s.salt, 'sha256'),
                    'hex')
                FROM compliance.salts AS s
                WHERE s.salt_family OPERATOR(pg_catalog.=) %2$L AND NOT s.is_retired
            $body$;
            -- array in, array out (same order): the bulk form of the same function
            CREATE FUNCTION compliance.%1$I(vals text[]) RETURNS text[]
                LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
            AS $body$
                SELECT pg_catalog.array_agg(
                           pg_catalog.encode(
                               public.hmac(pg_catalog.convert_to(compliance.normalise(%2$L, v.value), 'UTF8'),
                                           s.salt, 'sha256'),
                               'hex')
                           ORDER BY v.ord)
                FROM compliance.salts AS s
                CROSS JOIN LATERAL pg_catalog.unnest(vals) WITH ORDINALITY AS v(value, ord)
                WHERE s.salt_family OPERATOR(pg_catalog.=) %2$L AND NOT s.is_retired
            $body$;
        $fn$, 'hash_' || f, f);
    END LOOP;
END $$;

-- integer user ids hash as their decimal text: hash_user(42) = hash_user('42')
CREATE FUNCTION compliance.hash_user(value bigint) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(value::pg_catalog.text, 'UTF8'), s.salt, 'sha256'), 'hex')
    FROM compliance.salts AS s
    WHERE s.salt_family OPERATOR(pg_catalog.=) 'user' AND NOT s.is_retired
$$;

-- Salt rotation (runbook 11.3): the new salt is generated here, never typed or exported.
-- Returns the new salt_id. compliance_admin only.
CREATE FUNCTION compliance.rotate_salt(p_family text, p_reason text) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM compliance.hash_families WHERE family = p_family) THEN
        RAISE EXCEPTION 'unknown hash family %', p_family USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(btrim(p_reason), '') = '' THEN
        RAISE EXCEPTION 'a rotation reason is required' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE compliance.salts
       SET is_retired = true, retired_at = now(), retired_by = session_user, rotation_reason = p_reason
     WHERE salt_family = p_family AND NOT is_retired;
    INSERT INTO compliance.salts (salt_family, salt, created_by, rotation_reason)
    VALUES (p_family, public.gen_random_bytes(32), session_user, p_reason)
    RETURNING salt_id INTO new_id;
    RETURN new_id;
END $$;

-- Fingerprints (first 16 hex of sha256(salt)) let operators compare hosts without seeing a key.
CREATE VIEW compliance.salt_status AS
SELECT salt_id, salt_family, created_at, created_by, is_retired, retired_at, retired_by, rotation_reason,
       pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.sha256(salt)), 'hex'), 16) AS fingerprint
FROM compliance.salts;

-- What the warehouse's key holder may pull over postgres_fdw: the active salts, nothing else.
CREATE VIEW compliance.warehouse_key_export AS
SELECT salt_id, salt_family, salt, created_at
FROM compliance.salts
WHERE NOT is_retired;

-- ------------------------------------------------------------------ token vault (runbook 2.2)
-- Vault keys: the digest key makes tokens stable (same value -> same token) without storing the
-- value in clear; the encryption key protects the value. Never exported, never rotated by
-- salt_rotation (re-keying the vault is a separate, re-encrypting procedure).
CREATE TABLE compliance.vault_keys (
    purpose    text        PRIMARY KEY CHECK (purpose IN ('digest', 'encryption')),
    key        bytea       NOT NULL CHECK (octet_length(key) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO compliance.vault_keys (purpose, key)
VALUES ('digest', public.gen_random_bytes(32)), ('encryption', public.gen_random_bytes(32))
ON CONFLICT (purpose) DO NOTHING;

CREATE TABLE compliance.token_families (
    family      text PRIMARY KEY CHECK (family ~ '^[a-z][a-z_]*$'),
    description text NOT NULL
);
INSERT INTO compliance.token_families (family, description) VALUES
    ('email',     'email address'),
    ('phone',     'phone number'),
    ('id_number', 'SA ID / passport number'),
    ('name',      'personal name'),
    ('address',   'street address'),
    ('device_id', 'device identifier'),
    ('ip',        'IP address'),
    ('dob',       'date of birth');

CREATE FUNCTION compliance.tokenise(p_family text, p_value text) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_digest bytea;
    v_token  text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM compliance.token_families WHERE family = p_family) THEN
        RAISE EXCEPTION 'unknown token family %', p_family USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_digest := public.hmac(
        convert_to(p_family || ':' || compliance.normalise(p_family, p_value), 'UTF8'),
        (SELECT key FROM compliance.vault_keys WHERE purpose = 'digest'),
        'sha256');
    SELECT token INTO v_token
      FROM compliance.token_vault
     WHERE token_family = p_family AND value_digest = v_digest;
    IF v_token IS NOT NULL THEN
        RETURN v_token;
    END IF;
    INSERT INTO compliance.token_vault (token, token_family, value_digest, value_encrypted)
    VALUES (
        'tok_' || p_family || '_' || encode(public.gen_random_bytes(16), 'hex'),
        p_family,
        v_digest,
        public.pgp_sym_encrypt(
            p_value,
            encode((SELECT key FROM compliance.vault_keys WHERE purpose = 'encryption'), 'base64'),
            'cipher-algo=aes256, s2k-mode=1, compress-algo=0'))
    ON CONFLICT (token_family, value_digest) DO NOTHING
    RETURNING token INTO v_token;
    IF v_token IS NULL THEN  -- a concurrent caller inserted the same value first
        SELECT token INTO v_token
          FROM compliance.token_vault
         WHERE token_family = p_family AND value_digest = v_digest;
    END IF;
    RETURN v_token;
END $$;

CREATE FUNCTION compliance.tokenise_many(p_family text, p_values text[])
    RETURNS TABLE (value text, token text)
    LANGUAGE sql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.value, compliance.tokenise(p_family, v.value)
    FROM unnest(p_values) AS v(value)
    WHERE v.value IS NOT NULL
$$;

-- tokenise_email(value), tokenise_phone(value), ... one per family
DO $$
DECLARE
    f text;
BEGIN
    FOR f IN SELECT family FROM compliance.token_families ORDER BY family LOOP
        EXECUTE format($fn$
            CREATE FUNCTION compliance.%1$I(value text) RETURNS text
                LANGUAGE sql VOLATILE STRICT SECURITY DEFINER
                SET search_path = pg_catalog, pg_temp
            AS $body$ SELECT compliance.tokenise(%2$L, value) $body$
        $fn$, 'tokenise_' || f, f);
    END LOOP;
END $$;

-- Detokenise: compliance_user only; every call is written to compliance.token_access_audit.
-- EXECUTE is granted to compliance_user alone, so anyone else is refused by PostgreSQL itself.
-- The owner (and superusers) pass the privilege check; for them the membership check below
-- records a 'denied' row and returns NULL (fail closed, but audited).
CREATE FUNCTION compliance.detokenise(p_token text) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_family    text;
    v_encrypted bytea;
BEGIN
    SELECT token_family, value_encrypted INTO v_family, v_encrypted
      FROM compliance.token_vault WHERE token = p_token;
    IF NOT pg_has_role(session_user, 'compliance_user', 'MEMBER')
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        INSERT INTO compliance.token_access_audit (accessed_by, token_family, token, action)
        VALUES (session_user, coalesce(v_family, 'unknown'), p_token, 'denied');
        RAISE WARNING 'detokenise denied for role %: only compliance_user may detokenise', session_user;
        RETURN NULL;
    END IF;
    INSERT INTO compliance.token_access_audit (accessed_by, token_family, token, action)
    VALUES (session_user, coalesce(v_family, 'unknown'), p_token, 'detokenise');
    IF v_encrypted IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN public.pgp_sym_decrypt(
        v_encrypted,
        encode((SELECT key FROM compliance.vault_keys WHERE purpose = 'encryption'), 'base64'));
END $$;

-- ------------------------------------------------------------------ privileges
REVOKE ALL ON compliance.vault_keys, compliance.hash_families, compliance.token_families FROM PUBLIC;
REVOKE ALL ON FUNCTION compliance.normalise(text, text) FROM PUBLIC;
DO $$
DECLARE
    fn regprocedure;
BEGIN
    -- functions are executable by PUBLIC by default: start from nothing, then grant.
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc AS p
        WHERE p.pronamespace = 'compliance'::regnamespace
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
    -- hashing and tokenising: compliance_user (RTBF tombstones, reviewers' look-ups)
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc AS p
        WHERE p.pronamespace = 'compliance'::regnamespace
          AND (p.proname ~ '^hash' OR p.proname ~ '^tokenise' OR p.proname = 'normalise')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO compliance_user', fn);
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION compliance.detokenise(text) TO compliance_user;
GRANT SELECT ON compliance.hash_families, compliance.token_families, compliance.salt_status TO compliance_user;
GRANT SELECT ON compliance.warehouse_key_export TO warehouse_key_sync;

RESET ROLE;
