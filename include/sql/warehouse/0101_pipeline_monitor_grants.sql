-- pipeline_monitor: the freshness monitor and every alert sender (connection warehouse_monitor).
GRANT CONNECT ON DATABASE data_warehouse TO pipeline_monitor;
GRANT USAGE ON SCHEMA raw, etl, ops TO pipeline_monitor;
GRANT SELECT ON ALL TABLES IN SCHEMA raw TO pipeline_monitor;
ALTER DEFAULT PRIVILEGES FOR ROLE etl_writer IN SCHEMA raw GRANT SELECT ON TABLES TO pipeline_monitor;
GRANT SELECT ON etl.extract_watermark, etl.extract_batch TO pipeline_monitor;
GRANT SELECT, INSERT, UPDATE ON ops.alert_outbox TO pipeline_monitor;
