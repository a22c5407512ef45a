-- ops.alert_outbox: durable queue for Alertmanager alerts that could not be delivered.
-- Written by plugins/dataacuity/alerting.py:send_or_queue() when Alertmanager is unreachable,
-- emptied (oldest first, FOR UPDATE SKIP LOCKED) by drain_outbox(). Rows are kept after delivery
-- (sent_at set) as evidence; prune with: DELETE FROM ops.alert_outbox WHERE sent_at < now() - interval '30 days';
-- Idempotent. Grants are managed separately (writers need SELECT, INSERT, UPDATE).

CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE IF NOT EXISTS ops.alert_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action          text        NOT NULL CHECK (action IN ('fire', 'resolve')),
    alertname       text        NOT NULL,
    fingerprint     text        NOT NULL,   -- sha256 of the sorted label set (first 16 hex)
    payload         jsonb       NOT NULL,   -- the Alertmanager API v2 alert, sent as is
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    sent_at         timestamptz,            -- NULL = pending
    gave_up_at      timestamptz,            -- set when Alertmanager rejected the payload (4xx)
    CONSTRAINT alert_outbox_payload_is_object CHECK (jsonb_typeof(payload) = 'object')
);

COMMENT ON TABLE ops.alert_outbox IS
    'Alerts queued while Alertmanager was unreachable; pending = sent_at IS NULL AND gave_up_at IS NULL. '
    'See plugins/dataacuity/alerting.py.';

CREATE INDEX IF NOT EXISTS alert_outbox_pending_idx
    ON ops.alert_outbox (created_at, id)
    WHERE sent_at IS NULL AND gave_up_at IS NULL;
