-- Did any extract land or change rows since the last transform build started? (warehouse_monitor)
-- A transform run with nothing new to build skips itself (one extract cycle = one real build).
SELECT (SELECT max(b.finished_at) FROM etl.extract_batch AS b
        WHERE b.status = 'success' AND b.rows_inserted + b.rows_updated + b.rows_deleted > 0) AS last_change,
       (SELECT max(i.started_at) FROM dbt_artifacts.invocations AS i WHERE i.command = 'build') AS last_build;
