"""freshness_monitor: every 5 minutes, the lag of every registry table; SourceStale fires and resolves."""

from datetime import datetime

from airflow.sdk import DAG, task

from dataacuity.dag_defaults import default_args, tags

DOC = """\
### Freshness monitor (runbook 1.6, §10.1)

Every 5 minutes, for every table of `config/sources.yml`: lag = now - newest event time in
`raw.<source_db>__<table>`, and the time since its last successful extract (`etl.extract_batch`).

- lag > 2x the table's expected interval: **SourceStale P2** (ticket);
- lag > 4x: **SourceStale P1** (page; inhibits the P2 of the same table);
- fresh again: the alerts are resolved. While stale they are re-sent every run.

First task `drain_outbox` delivers alerts queued while Alertmanager was unreachable
(`ops.alert_outbox`). The task log shows the whole lag table.

**When it fails**: the monitor itself is blind, not the pipeline: check the `warehouse_monitor`
and `alertmanager` connections, then `docs/runbooks/SourceStale.md`. When it pages: the runbook
says which extract DAG to look at; kill switch engaged = staleness alerts are inhibited on purpose.
"""

with DAG(
    dag_id="freshness_monitor",
    schedule="*/5 * * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,  # a monitor of the present: past ticks have nothing to measure
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=tags("monitoring"),
    doc_md=DOC,
):

    @task
    def drain_outbox() -> int:
        from dataacuity.monitoring import drain_alert_outbox

        return drain_alert_outbox()

    @task
    def check_sources() -> dict:
        from dataacuity.monitoring import check_source_freshness

        return check_source_freshness()

    drain_outbox() >> check_sources()
