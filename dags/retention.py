"""retention: delete raw rows past their table's retention. Wiring only: dataacuity.retention."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from dataacuity.dag_defaults import COMPLIANCE_QUEUE, default_args, tags

DOC = """\
### Retention (per table `retention_days` in config/sources.yml; default event 730 d, dimension 1825 d)

Daily. Deletes raw rows (and so the staging views over them) older than their table's retention,
measured on the event time (else the cursor), in bounded batches of 10 000 rows (short
transactions, no long locks). Rows of users under a legal hold (`compliance.legal_hold_active` on
.118) are kept. Every batch is written to `compliance.governance_log` (.118): table, rows,
cutoff, run.

**When it fails**: read the task log. A rerun is always safe (it deletes what is still past
retention). Kill switch engaged -> the writes are refused: expected; it catches up once released.
Marts are not touched here: they hold pseudonymous, aggregated data under their own contracts.
"""

with DAG(
    dag_id="retention",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(  # compliance_118 (holds, governance log) lives on that worker only
        retries=2, retry_delay=timedelta(minutes=5), queue=COMPLIANCE_QUEUE
    ),
    tags=tags("compliance"),
    doc_md=DOC,
):

    @task(task_id="enforce")
    def enforce(**context) -> list[dict]:
        from dataacuity import retention

        return retention.enforce(retention.Links.from_airflow(), context["run_id"])

    enforce()
