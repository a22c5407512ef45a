-- data_warehouse (.106): refresh_hash_keys() never undoes a swap (issue 8, salt rotation).
--
-- Between the rotation's swap on .106 (pending -> active here, old key deleted) and its completion
-- on .118, .118 still lists the new generation as pending and the old one as active. A refresh in
-- that window (set-up, an operator) must not bring the old key back as active: a generation that
-- is active here stays active, and the old one of that family is not loaded again.

SET LOCAL ROLE compliance_keyholder;

CREATE OR REPLACE FUNCTION compliance.refresh_hash_keys()
    RETURNS TABLE (salt_family text, salt_id integer, fingerprint text, changed boolean, status text)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_wrap     text;
    v_previous integer[];
    v_active   integer[];
BEGIN
    LOCK TABLE compliance.hash_keys IN EXCLUSIVE MODE;
    v_wrap := pg_catalog.encode((SELECT w.wrap_key FROM compliance.key_wrap AS w), 'hex');
    IF v_wrap IS NULL THEN
        RAISE EXCEPTION 'the key link is not installed (no wrap key): run python -m dataacuity.compliance link';
    END IF;
    v_previous := ARRAY(SELECT k.salt_id FROM compliance.hash_keys AS k);
    v_active := ARRAY(SELECT k.salt_id FROM compliance.hash_keys AS k WHERE k.status OPERATOR(pg_catalog.=) 'active');
    DELETE FROM compliance.hash_keys;
    INSERT INTO compliance.hash_keys (salt_family, salt_id, salt, source_created_at, status)
    SELECT r.salt_family, r.salt_id, public.pgp_sym_decrypt_bytea(r.salt_wrapped, v_wrap), r.created_at, r.status
    FROM compliance.remote_key_export AS r;
    -- a generation already swapped in here stays active; its predecessor is not reloaded
    DELETE FROM compliance.hash_keys AS a
     WHERE a.status OPERATOR(pg_catalog.=) 'active'
       AND EXISTS (SELECT 1 FROM compliance.hash_keys AS p
                   WHERE p.salt_family OPERATOR(pg_catalog.=) a.salt_family
                     AND p.status OPERATOR(pg_catalog.=) 'pending'
                     AND p.salt_id OPERATOR(pg_catalog.=) ANY (v_active));
    UPDATE compliance.hash_keys AS k SET status = 'active'
     WHERE k.status OPERATOR(pg_catalog.=) 'pending' AND k.salt_id OPERATOR(pg_catalog.=) ANY (v_active);
    IF NOT EXISTS (SELECT 1 FROM compliance.hash_keys AS k
                   WHERE k.salt_family OPERATOR(pg_catalog.=) 'user' AND k.status OPERATOR(pg_catalog.=) 'active') THEN
        RAISE EXCEPTION 'no active salts received from the compliance host (.118): nothing refreshed';
    END IF;
    RETURN QUERY
        SELECT s.salt_family, s.salt_id, s.fingerprint,
               NOT (s.salt_id OPERATOR(pg_catalog.=) ANY (v_previous)), s.status
        FROM compliance.hash_key_status AS s
        ORDER BY s.salt_family, s.status;
END $$;

RESET ROLE;
