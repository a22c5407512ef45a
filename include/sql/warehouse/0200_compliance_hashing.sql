-- data_warehouse on .106: keyed hashing for dbt (runbook 2.1) from a protected copy of the
-- compliance salts of .118.
--
-- compliance_keyholder (NOLOGIN, nobody is a member) owns schema `compliance` here, the key copy
-- compliance.hash_keys and every function below. dbt (dbt_writer) may EXECUTE the hash functions
-- and gets hashes back; it cannot SELECT the keys, and neither can analytics_user or etl_writer.
--
-- The copy is pulled from .118 by compliance.refresh_hash_keys() over postgres_fdw (server
-- compliance_118, user mapping for compliance_keyholder -> .118 role warehouse_key_sync, which can
-- read only compliance.warehouse_key_export). Host, port and password of that link are set by
-- dataacuity.compliance.install_key_link() (never in a file). Salt rotation = rotate on .118,
-- refresh here, full-refresh the dbt models. Threat model: docs/compliance-hashing.md.
--
-- The functions are byte-for-byte the .118 ones (include/sql/compliance/0200_*), with the key read
-- from compliance.hash_keys: compliance.hash_user('42') is the same on both hosts.

CREATE EXTENSION IF NOT EXISTS postgres_fdw;

DO $$
BEGIN
    CREATE ROLE compliance_keyholder NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;
GRANT USAGE ON SCHEMA public TO compliance_keyholder;           -- pgcrypto (hmac, sha256)
GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO compliance_keyholder;

CREATE SCHEMA compliance AUTHORIZATION compliance_keyholder;

-- Placeholder address: install_key_link() sets host/port/dbname for the environment.
CREATE SERVER compliance_118 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host 'compliance-118', port '5432', dbname 'compliance', fetch_size '100');
ALTER SERVER compliance_118 OWNER TO compliance_keyholder;

SET LOCAL ROLE compliance_keyholder;

-- The key copy. No grants: readable by its owner (and superusers) only.
CREATE TABLE compliance.hash_keys (
    salt_family       text        PRIMARY KEY,
    salt_id           integer     NOT NULL,
    salt              bytea       NOT NULL CHECK (octet_length(salt) >= 32),
    source_created_at timestamptz NOT NULL,
    synced_at         timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON compliance.hash_keys FROM PUBLIC;

CREATE FOREIGN TABLE compliance.remote_key_export (
    salt_id     integer     NOT NULL,
    salt_family text        NOT NULL,
    salt        bytea       NOT NULL,
    created_at  timestamptz NOT NULL
) SERVER compliance_118 OPTIONS (schema_name 'compliance', table_name 'warehouse_key_export');
REVOKE ALL ON compliance.remote_key_export FROM PUBLIC;

-- Normalisation before hashing: identical to .118.
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

-- Scalar form, for ad-hoc use and small sets (one key lookup per call: see the set-based form).
-- SECURITY DEFINER without `SET search_path` (a per-call GUC change costs more than the hash):
-- every name is schema-qualified, so the caller's search_path cannot redirect anything.
CREATE FUNCTION compliance.hash(family text, value text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT pg_catalog.encode(
        public.hmac(pg_catalog.convert_to(compliance.normalise(family, value), 'UTF8'), k.salt, 'sha256'),
        'hex')
    FROM compliance.hash_keys AS k
    WHERE k.salt_family OPERATOR(pg_catalog.=) family
$$;

-- Set-based form: one key lookup per call, then HMAC per value. What dbt uses (macro hash_lookup).
CREATE FUNCTION compliance.hash_many(family text, vals text[])
    RETURNS TABLE (value text, hash text)
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT v.value,
           pg_catalog.encode(
               public.hmac(pg_catalog.convert_to(compliance.normalise(family, v.value), 'UTF8'), k.salt, 'sha256'),
               'hex')
    FROM compliance.hash_keys AS k
    CROSS JOIN LATERAL pg_catalog.unnest(vals) AS v(value)
    WHERE k.salt_family OPERATOR(pg_catalog.=) family
      AND v.value IS NOT NULL
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['user', 'device', 'ip', 'email', 'phone', 'id_number'] LOOP
        EXECUTE format($fn$
            CREATE FUNCTION compliance.%1$I(value text) RETURNS text
                LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
            AS $body$
                SELECT pg_catalog.encode(
                    public.hmac(pg_catalog.convert_to(compliance.normalise(%2$L, value), 'UTF8'), k.salt, 'sha256'),
                    'hex')
                FROM compliance.hash_keys AS k
                WHERE k.salt_family OPERATOR(pg_catalog.=) %2$L
            $body$;
            CREATE FUNCTION compliance.%1$I(vals text[]) RETURNS text[]
                LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
            AS $body$
                SELECT pg_catalog.array_agg(
                           pg_catalog.encode(
                               public.hmac(pg_catalog.convert_to(compliance.normalise(%2$L, v.value), 'UTF8'),
                                           k.salt, 'sha256'),
                               'hex')
                           ORDER BY v.ord)
                FROM compliance.hash_keys AS k
                CROSS JOIN LATERAL pg_catalog.unnest(vals) WITH ORDINALITY AS v(value, ord)
                WHERE k.salt_family OPERATOR(pg_catalog.=) %2$L
            $body$;
        $fn$, 'hash_' || f, f);
    END LOOP;
END $$;

CREATE FUNCTION compliance.hash_user(value bigint) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(value::pg_catalog.text, 'UTF8'), k.salt, 'sha256'), 'hex')
    FROM compliance.hash_keys AS k
    WHERE k.salt_family OPERATOR(pg_catalog.=) 'user'
$$;

-- What is loaded, without the keys: fingerprint = first 16 hex of sha256(sha256(salt)), the same
-- as compliance.salt_status.fingerprint on .118.
CREATE VIEW compliance.hash_key_status AS
SELECT salt_family, salt_id, source_created_at, synced_at,
       pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.sha256(salt)), 'hex'), 16) AS fingerprint
FROM compliance.hash_keys;

-- Pull the active salts from .118 into compliance.hash_keys (install, and after every rotation).
-- Returns what changed, by fingerprint. Never returns or logs a key.
CREATE FUNCTION compliance.refresh_hash_keys()
    RETURNS TABLE (salt_family text, salt_id integer, fingerprint text, changed boolean)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    previous jsonb;
    n        integer;
BEGIN
    LOCK TABLE compliance.hash_keys IN EXCLUSIVE MODE;
    SELECT coalesce(jsonb_object_agg(k.salt_family, k.salt_id), '{}') INTO previous FROM compliance.hash_keys AS k;
    DELETE FROM compliance.hash_keys;
    INSERT INTO compliance.hash_keys (salt_family, salt_id, salt, source_created_at)
    SELECT r.salt_family, r.salt_id, r.salt, r.created_at FROM compliance.remote_key_export AS r;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 OR NOT EXISTS (SELECT 1 FROM compliance.hash_keys AS k WHERE k.salt_family = 'user') THEN
        RAISE EXCEPTION 'no active salts received from the compliance host (.118): nothing refreshed';
    END IF;
    RETURN QUERY
        SELECT s.salt_family, s.salt_id, s.fingerprint,
               (previous ->> s.salt_family)::integer IS DISTINCT FROM s.salt_id
        FROM compliance.hash_key_status AS s
        ORDER BY s.salt_family;
END $$;

-- dbt's on-run-start guard: fail fast with a clear message when the key copy is missing.
CREATE FUNCTION compliance.assert_hash_keys_loaded() RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_salt_id integer;
BEGIN
    SELECT k.salt_id INTO v_salt_id FROM compliance.hash_keys AS k WHERE k.salt_family = 'user';
    IF v_salt_id IS NULL THEN
        RAISE EXCEPTION 'compliance.hash_keys is empty on the warehouse: run the key link set-up '
            '(python -m dataacuity.compliance link) or SELECT * FROM compliance.refresh_hash_keys() as warehouse_admin';
    END IF;
    RETURN v_salt_id;
END $$;

-- PII detectors used by the dbt PII-absence tests (no secret; plain immutable helpers).
-- Luhn check of a digit string (the last digit is the check digit).
CREATE FUNCTION compliance.luhn_valid(digits text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT digits ~ '^[0-9]+$' AND (
        SELECT sum(CASE WHEN i % 2 = 0
                        THEN (d * 2) / 10 + (d * 2) % 10
                        ELSE d END) % 10 = 0
        FROM (
            SELECT i, substr(digits, length(digits) - i + 1, 1)::int AS d
            FROM generate_series(1, length(digits)) AS i
        ) AS x
    )
$$;

-- A South African ID number: 13 digits YYMMDD SSSS C A Z with a real calendar date (leap days
-- allowed) and a valid Luhn check digit. The citizenship digit is not checked (more sensitive).
CREATE FUNCTION compliance.is_sa_id_number(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value !~ '^[0-9]{13}$' THEN false
        WHEN substr(value, 3, 2)::int NOT BETWEEN 1 AND 12 THEN false
        WHEN substr(value, 5, 2)::int NOT BETWEEN 1 AND
             extract(day FROM make_date(2000, substr(value, 3, 2)::int, 1) + interval '1 month - 1 day')::int
            THEN false
        ELSE compliance.luhn_valid(value)
    END
$$;

-- Does free text contain an SA ID number anywhere (13 digits not part of a longer digit run)?
CREATE FUNCTION compliance.contains_sa_id_number(value text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT value ~ '[0-9]{13}' AND EXISTS (
        SELECT 1
        FROM regexp_matches(value, '(?:^|[^0-9])([0-9]{13})(?![0-9])', 'g') AS m
        WHERE compliance.is_sa_id_number(m[1])
    )
$$;

-- ------------------------------------------------------------------ privileges
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc AS p WHERE p.pronamespace = 'compliance'::regnamespace
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', fn);
    END LOOP;
    -- dbt hashes and detects; it never reads a key
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc AS p
        WHERE p.pronamespace = 'compliance'::regnamespace
          AND (p.proname ~ '^hash' OR p.proname IN ('normalise', 'assert_hash_keys_loaded', 'luhn_valid',
                                                    'is_sa_id_number', 'contains_sa_id_number'))
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO dbt_writer', fn);
    END LOOP;
END $$;
GRANT USAGE ON SCHEMA compliance TO dbt_writer, warehouse_admin;
GRANT SELECT ON compliance.hash_key_status TO dbt_writer, warehouse_admin;
-- the salt_rotation DAG and set-up refresh the copy as warehouse_admin
GRANT EXECUTE ON FUNCTION compliance.refresh_hash_keys() TO warehouse_admin;
GRANT EXECUTE ON FUNCTION compliance.assert_hash_keys_loaded() TO warehouse_admin;

RESET ROLE;
