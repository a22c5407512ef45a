-- compliance (.118): GENERATED from include/sql/templates/key_functions.sql.j2 by
-- `python -m tools.render_key_functions`. Do not edit: change the template and render it into a
-- new migration (the renderer takes the file name). The same bodies run on .118 and .106.

SET LOCAL ROLE compliance_keyholder;

-- Normalisation before hashing, for ad-hoc use (the hash functions inline the same rule).
CREATE OR REPLACE FUNCTION compliance.normalise(family pg_catalog.text, value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text THEN pg_catalog.btrim(value)
        WHEN family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text THEN CASE WHEN pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END
        WHEN family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text THEN pg_catalog.regexp_replace(value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text)
        ELSE value END
$$;

-- Generic scalar form (active generation).
CREATE OR REPLACE FUNCTION compliance.hash(family pg_catalog.text, value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(CASE
        WHEN family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text THEN pg_catalog.btrim(value)
        WHEN family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(value))
        WHEN family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text THEN CASE WHEN pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END
        WHEN family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text THEN pg_catalog.regexp_replace(value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text)
        ELSE value END, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) family AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

-- Set-based form, active generation: one key read per call. What dbt uses (macro hash_lookup).
CREATE OR REPLACE FUNCTION compliance.hash_many(family pg_catalog.text, vals pg_catalog.text[])
    RETURNS TABLE (value pg_catalog.text, hash pg_catalog.text)
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT v.value, pg_catalog.encode(public.hmac(pg_catalog.convert_to(CASE
        WHEN family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(v.value))
        WHEN family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text THEN pg_catalog.btrim(v.value)
        WHEN family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(v.value))
        WHEN family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text THEN CASE WHEN pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END
        WHEN family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text THEN pg_catalog.regexp_replace(v.value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text)
        ELSE v.value END, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) family AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
    FROM pg_catalog.unnest(vals) AS v(value)
    WHERE v.value IS NOT NULL
$$;

-- Set-based form for a named generation state: 'active', or 'pending' while a rotation builds its
-- shadow relations (dbt var hash_key_state). Fails, naming the family and state, when no such
-- generation is loaded (a NULL hash must never reach a model).
CREATE OR REPLACE FUNCTION compliance.hash_many(family pg_catalog.text, vals pg_catalog.text[], key_state pg_catalog.text)
    RETURNS TABLE (value pg_catalog.text, hash pg_catalog.text)
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k_salt pg_catalog.bytea;
BEGIN
    IF NOT (key_state OPERATOR(pg_catalog.=) ANY (ARRAY['active'::pg_catalog.text, 'pending'::pg_catalog.text])) THEN
        RAISE EXCEPTION 'compliance.hash_many: key_state must be active or pending, got %', key_state
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    k_salt := (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) family AND k.status OPERATOR(pg_catalog.=) key_state);
    IF k_salt IS NULL THEN
        RAISE EXCEPTION 'compliance.hash_many: no % key generation of family % is loaded', key_state, family
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN QUERY
        SELECT v.value, pg_catalog.encode(public.hmac(pg_catalog.convert_to(CASE
        WHEN family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(v.value))
        WHEN family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text THEN pg_catalog.btrim(v.value)
        WHEN family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text THEN pg_catalog.lower(pg_catalog.btrim(v.value))
        WHEN family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text THEN CASE WHEN pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END
        WHEN family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text THEN pg_catalog.regexp_replace(v.value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text)
        ELSE v.value END, 'UTF8'::pg_catalog.text), k_salt, 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value)
        WHERE v.value IS NOT NULL;
END
$$;

-- user: compliance.hash_user(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_user(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(value, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'user'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_user(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(v.value, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'user'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- device: compliance.hash_device(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_device(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.lower(pg_catalog.btrim(value)), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_device(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.lower(pg_catalog.btrim(v.value)), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'device'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- ip: compliance.hash_ip(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_ip(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.btrim(value), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_ip(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.btrim(v.value), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'ip'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- email: compliance.hash_email(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_email(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.lower(pg_catalog.btrim(value)), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_email(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.lower(pg_catalog.btrim(v.value)), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'email'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- phone: compliance.hash_phone(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_phone(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(CASE WHEN pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_phone(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(CASE WHEN pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) OPERATOR(pg_catalog.~) '^(0027|27|0)[0-9]{9}$'::pg_catalog.text
          THEN '27'::pg_catalog.text OPERATOR(pg_catalog.||) pg_catalog."right"(pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 9)
          ELSE pg_catalog.regexp_replace(v.value, '[^0-9]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text) END, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'phone'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- id_number: compliance.hash_id_number(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_id_number(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.regexp_replace(value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_id_number(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(pg_catalog.regexp_replace(v.value, '[^0-9A-Za-z]'::pg_catalog.text, ''::pg_catalog.text, 'g'::pg_catalog.text), 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'id_number'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- erasure: compliance.hash_erasure(value) and the array form (one function scan: the
-- input order is kept).
CREATE OR REPLACE FUNCTION compliance.hash_erasure(value pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(value, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'erasure'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

CREATE OR REPLACE FUNCTION compliance.hash_erasure(vals pg_catalog.text[]) RETURNS pg_catalog.text[]
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(
        SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(v.value, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'erasure'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
        FROM pg_catalog.unnest(vals) AS v(value))
$$;

-- integer user ids hash as their decimal text: hash_user(42) = hash_user('42')
CREATE OR REPLACE FUNCTION compliance.hash_user(value pg_catalog.int8) RETURNS pg_catalog.text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(public.hmac(pg_catalog.convert_to(value::pg_catalog.text, 'UTF8'::pg_catalog.text), (SELECT k.salt FROM compliance.hash_keys AS k
              WHERE k.salt_family OPERATOR(pg_catalog.=) 'user'::pg_catalog.text AND k.status OPERATOR(pg_catalog.=) 'active'::pg_catalog.text), 'sha256'::pg_catalog.text), 'hex'::pg_catalog.text)
$$;

-- EXECUTE: named roles only.

REVOKE ALL ON FUNCTION compliance.normalise(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.normalise(pg_catalog.text, pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash(pg_catalog.text, pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_many(pg_catalog.text, pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_many(pg_catalog.text, pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_many(pg_catalog.text, pg_catalog.text[], pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_many(pg_catalog.text, pg_catalog.text[], pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_user(pg_catalog.int8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_user(pg_catalog.int8) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_user(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_user(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_user(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_user(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_device(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_device(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_device(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_device(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_ip(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_ip(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_ip(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_ip(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_email(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_email(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_email(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_email(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_phone(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_phone(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_phone(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_phone(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_id_number(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_id_number(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_id_number(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_id_number(pg_catalog.text[]) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_erasure(pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_erasure(pg_catalog.text) TO compliance_user, compliance_admin;
REVOKE ALL ON FUNCTION compliance.hash_erasure(pg_catalog.text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.hash_erasure(pg_catalog.text[]) TO compliance_user, compliance_admin;

RESET ROLE;
