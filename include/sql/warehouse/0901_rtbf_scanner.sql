-- data_warehouse (.106): the right-to-be-forgotten zero-residual scanner (issue 9), behind the
-- writer fence of 0600_least_privilege_fences.sql (issue 10).
--
-- rtbf_scanner may read every table of every pipeline schema (raw and staging included) so that the
-- last step of a request can prove the user is gone from all of them. It is a NOLOGIN role with NO
-- members: nobody can log in as it or SET ROLE to it (the fence refuses both for every PII reader,
-- ops.pii_layer_readers()). The only way to use its rights is rtbf.residual_hits(), a SECURITY
-- DEFINER function it owns that counts, per column, the rows of ONE table holding one of the
-- given needles, and returns those counts (never a value). It builds its own predicate from the
-- catalog (callers pass no SQL and no LIKE pattern: substrings are escaped here and must be at
-- least 6 characters), runs with search_path pinned and every operator and function qualified,
-- refuses row-level-security policies (row_security off: a policy would run as the scanner), and
-- is executable by warehouse_admin only (the rtbf_cascade DAG's warehouse_admin connection).

-- 1. rtbf_scanner joins the readers of raw/staging (replacing 0600's list: keep every reader).
CREATE OR REPLACE FUNCTION ops.pii_layer_readers() RETURNS name[]
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$ SELECT ARRAY['dbt_writer', 'pushback_owner', 'rtbf_scanner']::name[] $$;

DO $$
BEGIN
    CREATE ROLE rtbf_scanner NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object THEN
    ALTER ROLE rtbf_scanner NOLOGIN NOINHERIT;
END $$;

-- 2. Read access: every schema but the key holder's (compliance: only the tombstone refs).
DO $$
DECLARE
    s text;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'compliance')
               AND nspname !~ '^pg_(toast_)?temp_' LOOP
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO rtbf_scanner', s);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO rtbf_scanner', s);
    END LOOP;
END $$;
-- tables created later: by the extract (raw), dbt (every schema it builds, rotation shadows
-- included), the push-back owner, and later migrations
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw GRANT SELECT ON TABLES TO rtbf_scanner;
ALTER DEFAULT PRIVILEGES FOR ROLE dbt_writer GRANT SELECT ON TABLES TO rtbf_scanner;
ALTER DEFAULT PRIVILEGES FOR ROLE pushback_owner IN SCHEMA pushback GRANT SELECT ON TABLES TO rtbf_scanner;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT SELECT ON TABLES TO rtbf_scanner;
-- (No default USAGE on schemas dbt_writer creates later: the fence refuses writer defaults of USAGE.
-- A schema the scanner cannot enter, e.g. a salt rotation's shadow schema, fails the scan as
-- unreadable until it is gone or granted: the request is retried, never closed unscanned.)
GRANT USAGE ON SCHEMA compliance TO rtbf_scanner;
GRANT SELECT ON compliance.rtbf_tombstones TO rtbf_scanner;

-- 3. The scan: per column of one table, how many rows hold one of the needles (and, with a NULL
--    column name, how many rows hold any). Needles: p_exact (whole text values), p_contains
--    (substrings of free-text columns named in p_substring_columns and of json columns; shorter than
--    6 characters ignored), p_user_ids (in the user-id columns named in p_user_columns).
CREATE FUNCTION rtbf.residual_hits(
    p_schema pg_catalog.text,
    p_table pg_catalog.text,
    p_user_columns pg_catalog.text[],
    p_substring_columns pg_catalog.text[],
    p_exact pg_catalog.text[],
    p_contains pg_catalog.text[],
    p_user_ids pg_catalog.int8[]
) RETURNS TABLE (column_name pg_catalog.text, hits pg_catalog.int8)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET row_security = off
AS $$
DECLARE
    text_types CONSTANT pg_catalog.text[] := ARRAY['text', 'character varying', 'character', 'citext', 'name'];
    integer_types CONSTANT pg_catalog.text[] := ARRAY['bigint', 'integer', 'smallint', 'numeric'];
    bs CONSTANT pg_catalog.text := pg_catalog.chr(92);  -- LIKE's escape character
    v_schema pg_catalog.text;
    v_table pg_catalog.text;
    v_rel pg_catalog.oid;
    v_col record;
    v_ident pg_catalog.text;
    v_parts pg_catalog.text[];
    v_names pg_catalog.text[] := ARRAY[]::pg_catalog.text[];
    v_filters pg_catalog.text[] := ARRAY[]::pg_catalog.text[];
    v_patterns pg_catalog.text[];
    v_user_texts pg_catalog.text[];
    v_counts pg_catalog.int8[];
    v_sql pg_catalog.text;
    i pg_catalog.int4;
BEGIN
    SELECT c.oid, n.nspname::pg_catalog.text, c.relname::pg_catalog.text INTO v_rel, v_schema, v_table
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE n.nspname OPERATOR(pg_catalog.=) p_schema
      AND c.relname OPERATOR(pg_catalog.=) p_table
      AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'm']::pg_catalog."char"[]);
    IF v_rel IS NULL THEN
        RAISE EXCEPTION 'rtbf.residual_hits: no table %.% to scan', p_schema, p_table
            USING ERRCODE = 'undefined_table';
    END IF;

    SELECT pg_catalog.array_agg('%' OPERATOR(pg_catalog.||)
               pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(u.v, bs, bs OPERATOR(pg_catalog.||) bs),
                                                     '%', bs OPERATOR(pg_catalog.||) '%'),
                                  '_', bs OPERATOR(pg_catalog.||) '_')
               OPERATOR(pg_catalog.||) '%')
    INTO v_patterns
    FROM pg_catalog.unnest(p_contains) AS u(v)
    WHERE pg_catalog.length(u.v) OPERATOR(pg_catalog.>=) 6;
    SELECT pg_catalog.array_agg(u.id::pg_catalog.text) INTO v_user_texts FROM pg_catalog.unnest(p_user_ids) AS u(id);

    FOR v_col IN
        SELECT a.attname::pg_catalog.text AS name, pg_catalog.format_type(a.atttypid, NULL) AS type
        FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid OPERATOR(pg_catalog.=) v_rel AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
        ORDER BY a.attnum
    LOOP
        v_ident := pg_catalog.quote_ident(v_col.name);
        v_parts := ARRAY[]::pg_catalog.text[];
        IF v_col.name OPERATOR(pg_catalog.=) ANY (p_user_columns) THEN
            IF v_col.type OPERATOR(pg_catalog.=) ANY (text_types) THEN
                v_parts := v_parts OPERATOR(pg_catalog.||)
                    (v_ident OPERATOR(pg_catalog.||) '::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($4)');
            ELSIF v_col.type OPERATOR(pg_catalog.=) ANY (integer_types) THEN
                v_parts := v_parts OPERATOR(pg_catalog.||)
                    (v_ident OPERATOR(pg_catalog.||)
                     '::pg_catalog.numeric OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.numeric[])');
            END IF;
        END IF;
        IF v_col.type OPERATOR(pg_catalog.=) ANY (text_types) THEN
            v_parts := v_parts OPERATOR(pg_catalog.||)
                (v_ident OPERATOR(pg_catalog.||) '::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)');
            IF v_col.name OPERATOR(pg_catalog.=) ANY (p_substring_columns) THEN
                v_parts := v_parts OPERATOR(pg_catalog.||)
                    (v_ident OPERATOR(pg_catalog.||) '::pg_catalog.text OPERATOR(pg_catalog.~~) ANY ($2)');
            END IF;
        ELSIF v_col.type OPERATOR(pg_catalog.=) ANY (ARRAY['json', 'jsonb']) THEN
            v_parts := v_parts OPERATOR(pg_catalog.||)
                (v_ident OPERATOR(pg_catalog.||) '::pg_catalog.text OPERATOR(pg_catalog.~~) ANY ($2)');
        END IF;
        IF pg_catalog.cardinality(v_parts) OPERATOR(pg_catalog.>) 0 THEN
            v_names := v_names OPERATOR(pg_catalog.||) v_col.name;
            v_filters := v_filters OPERATOR(pg_catalog.||)
                ('(' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(v_parts, ' OR ') OPERATOR(pg_catalog.||) ')');
        END IF;
    END LOOP;
    IF pg_catalog.cardinality(v_names) OPERATOR(pg_catalog.=) 0 THEN
        RETURN;
    END IF;

    SELECT pg_catalog.string_agg('pg_catalog.count(*) FILTER (WHERE ' OPERATOR(pg_catalog.||) f.f
                                 OPERATOR(pg_catalog.||) ')', ', ')
    INTO v_sql
    FROM pg_catalog.unnest(v_filters OPERATOR(pg_catalog.||) pg_catalog.array_to_string(v_filters, ' OR ')) AS f(f);
    EXECUTE pg_catalog.format('SELECT ARRAY[%s]::pg_catalog.int8[] FROM %I.%I', v_sql, v_schema, v_table)
        INTO v_counts
        USING coalesce(p_exact, ARRAY[]::pg_catalog.text[]), coalesce(v_patterns, ARRAY[]::pg_catalog.text[]),
              coalesce(p_user_ids, ARRAY[]::pg_catalog.int8[]), coalesce(v_user_texts, ARRAY[]::pg_catalog.text[]);
    FOR i IN 1 .. pg_catalog.cardinality(v_names) LOOP
        column_name := v_names[i];
        hits := v_counts[i];
        RETURN NEXT;
    END LOOP;
    column_name := NULL;
    hits := v_counts[pg_catalog.cardinality(v_counts)];
    RETURN NEXT;
END
$$;
ALTER FUNCTION rtbf.residual_hits(pg_catalog.text, pg_catalog.text, pg_catalog.text[], pg_catalog.text[],
                                  pg_catalog.text[], pg_catalog.text[], pg_catalog.int8[]) OWNER TO rtbf_scanner;
REVOKE ALL ON FUNCTION rtbf.residual_hits(pg_catalog.text, pg_catalog.text, pg_catalog.text[], pg_catalog.text[],
                                          pg_catalog.text[], pg_catalog.text[], pg_catalog.int8[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rtbf.residual_hits(pg_catalog.text, pg_catalog.text, pg_catalog.text[], pg_catalog.text[],
                                             pg_catalog.text[], pg_catalog.text[], pg_catalog.int8[]) TO warehouse_admin;
GRANT USAGE ON SCHEMA rtbf TO rtbf_scanner;
