-- ops.kill_switch: the state of the warehouse kill switch (security posture §7, DESIGN §5).
--
-- The database is the enforcement: engaging revokes the write paths (etl_writer from etl_user,
-- dbt_writer from dbt_runner) and ends their open sessions -- see include/sql/kill_switch/ and
-- plugins/dataacuity/kill_switch.py. This single row is the record of WHO changed it, WHEN and WHY,
-- so a refused write task can say so (dataacuity.kill_switch.assert_writes_allowed) and the
-- freshness monitor can keep the KillSwitchEngaged alert firing. The history of every engage and
-- release is in compliance.incident_log on .118.
--
-- Exactly one row (id is always true). Readable by the login roles that write or watch the
-- warehouse; only warehouse_admin (the kill switch itself) may change it; nobody may insert or
-- delete, so the row cannot disappear.

CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE ops.kill_switch (
    id          boolean     PRIMARY KEY DEFAULT true CONSTRAINT kill_switch_single_row CHECK (id),
    engaged     boolean     NOT NULL DEFAULT false,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text        NOT NULL CONSTRAINT kill_switch_changed_by_given CHECK (btrim(changed_by) <> ''),
    reason      text        NOT NULL CONSTRAINT kill_switch_reason_given CHECK (btrim(reason) <> '')
);

COMMENT ON TABLE ops.kill_switch IS
    'Warehouse kill switch state (one row). engaged = writes into the warehouse are stopped: etl_user/dbt_runner '
    'are no longer members of etl_writer/dbt_writer. Change it only through plugins/dataacuity/kill_switch.py '
    '(kill_switch DAG or make kill-switch-engage / kill-switch-release).';

INSERT INTO ops.kill_switch (id, engaged, changed_by, reason)
VALUES (true, false, 'migration 0102', 'initial state: writes allowed');

REVOKE ALL ON ops.kill_switch FROM PUBLIC;
GRANT USAGE ON SCHEMA ops TO etl_user, dbt_runner, pipeline_monitor, warehouse_admin;
GRANT SELECT ON ops.kill_switch TO etl_user, dbt_runner, pipeline_monitor, warehouse_admin;
-- Column UPDATE also lets warehouse_admin lock the row (SELECT ... FOR UPDATE) to serialise
-- concurrent engage/release. No INSERT, DELETE or TRUNCATE for anyone but the owner.
GRANT UPDATE (engaged, changed_at, changed_by, reason) ON ops.kill_switch TO warehouse_admin;
