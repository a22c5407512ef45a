-- Push-back (runbook 3.4-3.7, DESIGN §3): per-app summaries from marts to analytics_db on .104
-- over postgres_fdw, re-keyed from the pseudonym (user_hash) to the app's own user id here, at this
-- one boundary, inside the database.
--
-- pushback_owner (NOLOGIN, no members) owns schema `pushback`, the foreign server analytics_104,
-- its user mapping (-> .104 role pushback_writer; host, port and password set by
-- dataacuity.pushback.install_link(), never in a file) and the SECURITY DEFINER functions below.
-- pushback_agent (the push_back__{app} DAGs, connection warehouse_pushback) may EXECUTE
-- pushback.refresh_summary() and nothing else here; analysts (analytics_user), dbt and the
-- extract cannot execute any of it, read the app user ids, or use the link.
--
-- Purpose limitation: pushback.rekey(app) inverts user_hash only for the user ids found in THAT
-- app's own raw tables (pushback.app_user_columns, registered from config/sources.yml at set-up),
-- so a per-user summary can never carry a user the app does not already know.

DO $$
BEGIN
    CREATE ROLE pushback_owner NOLOGIN NOINHERIT;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

GRANT CONNECT ON DATABASE data_warehouse TO pushback_agent;
GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO pushback_owner;

-- What the owner reads: the app user columns of raw (to invert hashes) and the summary marts.
GRANT USAGE ON SCHEMA raw, marts TO pushback_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA raw TO pushback_owner;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw GRANT SELECT ON TABLES TO pushback_owner;
GRANT SELECT ON ALL TABLES IN SCHEMA marts TO pushback_owner;
ALTER DEFAULT PRIVILEGES FOR ROLE dbt_writer IN SCHEMA marts GRANT SELECT ON TABLES TO pushback_owner;
-- hash_many: the same keyed hash dbt used, so the inversion matches the marts' user_hash.
GRANT USAGE ON SCHEMA compliance TO pushback_owner;
GRANT EXECUTE ON FUNCTION compliance.hash_many(text, text[]) TO pushback_owner;

CREATE SCHEMA pushback AUTHORIZATION pushback_owner;
REVOKE ALL ON SCHEMA pushback FROM PUBLIC;

-- Placeholder address: install_link() sets host/port/dbname for the environment.
CREATE SERVER analytics_104 FOREIGN DATA WRAPPER postgres_fdw
    OPTIONS (host 'analytics-104', port '5432', dbname 'analytics_db', batch_size '1000', fetch_size '1000');
ALTER SERVER analytics_104 OWNER TO pushback_owner;

SET LOCAL ROLE pushback_owner;

-- The app user columns of raw, from config/sources.yml (registered by set-up, never by the agent).
CREATE TABLE pushback.app_user_columns (
    app         text NOT NULL CHECK (app ~ '^[a-z][a-z0-9_]*$'),
    raw_table   text NOT NULL CHECK (raw_table ~ '^[a-z][a-z0-9_]*$'),
    user_column text NOT NULL CHECK (user_column ~ '^[a-z][a-z0-9_]*$'),
    PRIMARY KEY (app, raw_table, user_column)
);

-- One row per refresh: what was pushed where, when (the DAG's evidence; freshness reads the remote).
CREATE TABLE pushback.refresh_log (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app            text        NOT NULL,
    summary        text        NOT NULL,
    source_model   text        NOT NULL,
    rows_pushed    bigint      NOT NULL,
    rows_unmatched bigint      NOT NULL,
    refreshed_at   timestamptz NOT NULL,
    duration_ms    bigint      NOT NULL,
    pushed_by      text        NOT NULL DEFAULT session_user
);

-- Replace an app's registered user columns (set-up, as a superuser/DBA: the agent cannot).
CREATE FUNCTION pushback.register_app_user_columns(p_app text, p_columns jsonb) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM pushback.app_user_columns AS c WHERE c.app OPERATOR(pg_catalog.=) p_app;
    INSERT INTO pushback.app_user_columns (app, raw_table, user_column)
    SELECT p_app, e ->> 'raw_table', e ->> 'user_column'
    FROM pg_catalog.jsonb_array_elements(p_columns) AS e;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- pseudonym -> the app's own user id, for the users that app already holds. The caller never sees
-- the mapping unless it is the owner (no grant): refresh_summary() uses it inside the database.
CREATE FUNCTION pushback.rekey(p_app text) RETURNS TABLE (user_hash text, user_id bigint)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids   text[] := ARRAY[]::text[];
    part  text[];
    c     record;
BEGIN
    FOR c IN
        SELECT a.raw_table, a.user_column
        FROM pushback.app_user_columns AS a
        JOIN pg_catalog.pg_class AS t ON t.relname OPERATOR(pg_catalog.=) a.raw_table
        JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace
                                         AND n.nspname OPERATOR(pg_catalog.=) 'raw'
        WHERE a.app OPERATOR(pg_catalog.=) p_app
        ORDER BY a.raw_table, a.user_column
    LOOP
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.array_agg(DISTINCT x.%1$I::pg_catalog.text) FROM raw.%2$I AS x WHERE x.%1$I IS NOT NULL',
            c.user_column, c.raw_table)
        INTO part;
        ids := ids OPERATOR(pg_catalog.||) COALESCE(part, ARRAY[]::text[]);
    END LOOP;
    RETURN QUERY
        SELECT h.hash, h.value::pg_catalog.int8
        FROM compliance.hash_many('user', ARRAY(SELECT DISTINCT u FROM pg_catalog.unnest(ids) AS u)) AS h;
END $$;

-- The shape of a summary on .104, from its mart: user_id (per-user summaries, in place of the
-- mart's user_hash), the mart's other columns, last_updated_at. Used for the remote table
-- (dataacuity.pushback.ensure_remote_table) and the foreign table alike, so they cannot differ.
CREATE FUNCTION pushback.summary_columns(p_source_model text)
    RETURNS TABLE (per_user boolean, column_defs text, select_list text, insert_list text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src oid;
BEGIN
    SELECT c.oid INTO src
    FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE n.nspname OPERATOR(pg_catalog.=) 'marts' AND c.relname OPERATOR(pg_catalog.=) p_source_model
      AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'v', 'm', 'p']::"char"[]);
    IF src IS NULL THEN
        RAISE EXCEPTION 'push-back: marts.% does not exist (has the transform built it?)', p_source_model;
    END IF;
    per_user := EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                        WHERE a.attrelid OPERATOR(pg_catalog.=) src AND a.attname OPERATOR(pg_catalog.=) 'user_hash'
                          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped);
    SELECT pg_catalog.string_agg(pg_catalog.format('%I %s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum),
           pg_catalog.string_agg(pg_catalog.format('s.%I', a.attname), ', ' ORDER BY a.attnum),
           pg_catalog.string_agg(pg_catalog.format('%I', a.attname), ', ' ORDER BY a.attnum)
      INTO column_defs, select_list, insert_list
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attrelid OPERATOR(pg_catalog.=) src AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
      AND a.attname OPERATOR(pg_catalog.<>) ALL (ARRAY['user_hash', 'user_id', 'last_updated_at']::name[]);
    IF per_user THEN
        column_defs := 'user_id bigint NOT NULL, ' OPERATOR(pg_catalog.||) column_defs;
    END IF;
    column_defs := column_defs OPERATOR(pg_catalog.||) ', last_updated_at timestamptz NOT NULL';
    RETURN NEXT;
END $$;

-- Refresh analytics_db.<app>.<summary> from marts.<source_model> in ONE transaction on both sides:
-- postgres_fdw commits the remote DELETE + INSERT when this transaction commits, so readers on .104
-- see the old rows until then and the new rows after (never empty, never half-written). Rerunning
-- writes the same rows again. Per-user summaries (a user_hash column) are re-keyed to user_id; a
-- row whose pseudonym is not among the app's own users is dropped and counted, never pushed.
-- The remote table must exist (dataacuity.pushback.ensure_remote_table, as pushback_writer).
CREATE FUNCTION pushback.refresh_summary(p_app text, p_summary text, p_source_model text)
    RETURNS TABLE (rows_pushed bigint, rows_unmatched bigint, refreshed_at timestamptz)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ft_name     text := p_app OPERATOR(pg_catalog.||) '__' OPERATOR(pg_catalog.||) p_summary;
    per_user    boolean;
    cols_def    text;
    cols_sel    text;
    cols_ins    text;
    wanted      text;
    existing    text;
    started     timestamptz := pg_catalog.clock_timestamp();
    n_total     bigint;
    n_pushed    bigint;
BEGIN
    IF p_app !~ '^[a-z][a-z0-9_]*$' OR p_summary !~ '^[a-z][a-z0-9_]*$' OR p_source_model !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'push-back: bad name (app %, summary %, model %): lower-case identifiers only',
            p_app, p_summary, p_source_model;
    END IF;
    -- Only a mart named for this app may be pushed into this app's schema.
    IF p_source_model !~ ('^' OPERATOR(pg_catalog.||) p_app OPERATOR(pg_catalog.||) '__') THEN
        RAISE EXCEPTION 'push-back: marts.% is not a summary of app % (its name must start with %__)',
            p_source_model, p_app, p_app;
    END IF;
    SELECT c.per_user, c.column_defs, c.select_list, c.insert_list INTO per_user, cols_def, cols_sel, cols_ins
    FROM pushback.summary_columns(p_source_model) AS c;

    -- (Re)create the foreign table when the mart's shape changed.
    wanted := pg_catalog.md5(cols_def);
    SELECT pg_catalog.obj_description(c.oid, 'pg_class') INTO existing
    FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE n.nspname OPERATOR(pg_catalog.=) 'pushback' AND c.relname OPERATOR(pg_catalog.=) ft_name;
    IF existing IS DISTINCT FROM wanted THEN
        EXECUTE pg_catalog.format('DROP FOREIGN TABLE IF EXISTS pushback.%I', ft_name);
        EXECUTE pg_catalog.format(
            'CREATE FOREIGN TABLE pushback.%I (%s) SERVER analytics_104 OPTIONS (schema_name %L, table_name %L)',
            ft_name, cols_def, p_app, p_summary);
        EXECUTE pg_catalog.format('COMMENT ON FOREIGN TABLE pushback.%I IS %L', ft_name, wanted);
    END IF;

    EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM marts.%I', p_source_model) INTO n_total;
    EXECUTE pg_catalog.format('DELETE FROM pushback.%I', ft_name);
    IF per_user THEN
        EXECUTE pg_catalog.format(
            'INSERT INTO pushback.%1$I (user_id, %2$s, last_updated_at) '
            'SELECT k.user_id, %3$s, pg_catalog.now() FROM marts.%4$I AS s '
            'JOIN pushback.rekey(%5$L) AS k ON k.user_hash OPERATOR(pg_catalog.=) s.user_hash',
            ft_name, cols_ins, cols_sel, p_source_model, p_app);
    ELSE
        EXECUTE pg_catalog.format(
            'INSERT INTO pushback.%1$I (%2$s, last_updated_at) SELECT %3$s, pg_catalog.now() FROM marts.%4$I AS s',
            ft_name, cols_ins, cols_sel, p_source_model);
    END IF;
    GET DIAGNOSTICS n_pushed = ROW_COUNT;

    INSERT INTO pushback.refresh_log (app, summary, source_model, rows_pushed, rows_unmatched, refreshed_at, duration_ms)
    VALUES (p_app, p_summary, p_source_model, n_pushed, n_total OPERATOR(pg_catalog.-) n_pushed, pg_catalog.now(),
            (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) started) OPERATOR(pg_catalog.*) 1000)::bigint);
    RETURN QUERY SELECT n_pushed, n_total OPERATOR(pg_catalog.-) n_pushed, pg_catalog.now();
END $$;

-- Push-back lag (runbook 10.4) read over the link for the freshness monitor: age of every summary
-- already pushed. No personal data: one timestamp per summary.
CREATE FUNCTION pushback.summary_lag()
    RETURNS TABLE (app text, summary text, last_updated_at timestamptz, lag_seconds double precision)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f   record;
    ts  timestamptz;
BEGIN
    FOR f IN
        SELECT DISTINCT l.app, l.summary FROM pushback.refresh_log AS l ORDER BY l.app, l.summary
    LOOP
        ts := NULL;
        BEGIN
            EXECUTE pg_catalog.format('SELECT pg_catalog.max(last_updated_at) FROM pushback.%I',
                                      f.app OPERATOR(pg_catalog.||) '__' OPERATOR(pg_catalog.||) f.summary) INTO ts;
        EXCEPTION WHEN undefined_table THEN ts := NULL;
        END;
        app := f.app;
        summary := f.summary;
        last_updated_at := ts;
        lag_seconds := pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) ts);
        RETURN NEXT;
    END LOOP;
END $$;

REVOKE ALL ON ALL TABLES IN SCHEMA pushback FROM PUBLIC;
REVOKE ALL ON FUNCTION pushback.register_app_user_columns(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION pushback.rekey(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pushback.summary_columns(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pushback.refresh_summary(text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pushback.summary_lag() FROM PUBLIC;

RESET ROLE;

GRANT USAGE ON SCHEMA pushback TO pushback_agent, pipeline_monitor;
GRANT EXECUTE ON FUNCTION pushback.refresh_summary(text, text, text) TO pushback_agent;
GRANT EXECUTE ON FUNCTION pushback.summary_columns(text) TO pushback_agent;
GRANT EXECUTE ON FUNCTION pushback.summary_lag() TO pushback_agent, pipeline_monitor;
GRANT SELECT ON pushback.refresh_log TO pushback_agent, pipeline_monitor;
-- The PII gate reads the dbt results of the models it would push (runbook §10.2).
GRANT USAGE ON SCHEMA dbt_artifacts TO pushback_agent;
GRANT SELECT ON ALL TABLES IN SCHEMA dbt_artifacts TO pushback_agent;
