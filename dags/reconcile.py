"""reconcile: daily, every registry table's raw against the replica; differences re-extracted and reported."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from dataacuity.dag_defaults import default_args, tags
from dataacuity.registry import load_registry

DOC = """\
### Reconcile raw against the .105 hot standby (issue 12, runbook §10)

Daily, one task per source database of `config/sources.yml`. Per table: row counts and a cheap
checksum per key range (10 000 ids), per day of the event time (event tables without an integer
key) or per hash bucket, on the replica and in `raw` at the same time. Incremental tables compare
the rows up to their watermark; snapshot tables everything. A differing range is re-extracted
(any cursor value; rows gone at source are deleted from raw) and compared again. Rows of users
forgotten under RTBF (tombstoned) that the app still holds, and values naming them, are withheld by
the extract on purpose: they are not differences (the range is compared against the replica as the
extract lands it, through the same tombstone check).

This is how raw is trusted: it finds what no cursor can — a row whose cursor was set backwards
(before the watermark), a row lost from raw, rows of a transaction that stayed open past its
late-commit limit. Results: `SELECT * FROM etl.reconcile_result ORDER BY checked_at DESC`.

**When it pages** (**ReconcileMismatch**, P2): a range still differs after re-extracting; see
`docs/runbooks/ReconcileMismatch.md`. **When a task fails**: its log names each table and error;
the other tables of the source were still reconciled. Safe to clear and rerun at any time.
"""


def _reconcile(source_db: str, **context) -> list[dict]:
    from dataclasses import asdict

    from dataacuity import connections, kill_switch
    from dataacuity.alerting import notify
    from dataacuity.reconcile import reconcile_source

    ti = context.get("ti")
    outcomes = reconcile_source(
        load_registry(partial=True),
        source_db,
        connections.connector(connections.REPLICA, dbname=source_db),
        kill_switch.guarded(connections.connector(connections.WAREHOUSE_ETL)),
        notify=notify,
        log_url=getattr(ti, "log_url", "") or "",
    )
    return [asdict(outcome) for outcome in outcomes]


with DAG(
    dag_id="reconcile",
    schedule="30 3 * * *",  # after the nightly quiet hours' extracts, before the business day
    start_date=datetime(2026, 1, 1),
    catchup=False,  # compares the present; past days have nothing left to compare
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=3),
    default_args=default_args(retries=1),
    tags=tags("monitoring"),
    doc_md=DOC,
):
    for _source in load_registry(partial=True).sources:
        task(task_id=_source.name, max_active_tis_per_dag=1)(_reconcile)(source_db=_source.name)
