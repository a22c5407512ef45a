"""DAG factory: one `extract__{source_db}` DAG per source of the registry."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from dataacuity.alert_callbacks import deadline_alert
from dataacuity.assets import raw_asset
from dataacuity.dag_defaults import default_args, tags
from dataacuity.extract.operators import ReplicaExtractOperator
from dataacuity.registry import Registry, Source, load_registry

START_DATE = datetime(2026, 1, 1)

DOC_TEMPLATE = """\
### Extract `{source_db}` from the .105 hot standby into raw

Runs `{schedule}`; one task per table of `config/sources.yml` (source `{source_db}`, app `{app}`):

| task | kind | mode | schedule | raw table |
|---|---|---|---|---|
{rows}

Each task lands its window in `raw.{source_db}__<table>` and advances its watermark in one
warehouse transaction, so a failed or killed task is simply rerun (no duplicates, nothing lost).
The batch log is `etl.extract_batch`; watermarks are `etl.extract_watermark`.

**When it fails** (the task log names the table and the reason):
- *not in recovery*: the replica connection points at a primary. Fix `replica_105`.
- *changed type at source*: an incompatible schema change; migrate `raw` for that table by hand,
  then clear the task. The other tables keep running.
- *refuses writes / kill switch*: writes into the warehouse are revoked on purpose;
  see `docs/runbooks/KillSwitchEngaged.md`. Nothing is lost: the next run after release catches up.
- *conflict with recovery*: retried automatically; persistent failures mean very long reads on
  the standby (check replica lag, consider `hot_standby_feedback`).

A run not finished 15 minutes after it was queued pages **ExtractDeadlineMissed** (P1);
a task failing after its retries raises **TaskFailed** (P2) with the log URL.
Freshness: `freshness_monitor` and `include/sql/monitoring` (runbook §10.1) shows the lag per table.
"""


def dag_schedule(source: Source) -> str:
    """The most frequent cadence among the source's tables; slower tables skip the other ticks."""
    fastest = min(source.tables, key=lambda t: t.expected_interval_minutes)
    return fastest.schedule


def deadline_minutes(source: Source) -> int:
    """A run still going after three of its ticks (at least 15 minutes) has missed its deadline."""
    return max(15, 3 * min(t.expected_interval_minutes for t in source.tables))


def build_extract_dag(source: Source) -> DAG:
    schedule = dag_schedule(source)
    dag_id = f"extract__{source.name}"
    rows = "\n".join(
        f"| `{t.name}` | {t.kind} | {t.mode} | `{t.schedule}` | `raw.{t.raw_table}` |" for t in source.tables
    )
    with DAG(
        dag_id=dag_id,
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,  # extracts are windowed by watermark, not by logical date: nothing to back-fill
        max_active_runs=1,
        dagrun_timeout=timedelta(minutes=30),
        deadline=deadline_alert(dag_id, deadline_minutes(source), "ExtractDeadlineMissed"),
        default_args=default_args(),
        tags=tags("extract", registry_names=(source.name, source.app)),
        doc_md=DOC_TEMPLATE.format(source_db=source.name, schedule=schedule, app=source.app, rows=rows),
    ) as dag:
        for table in source.tables:
            ReplicaExtractOperator(
                task_id=table.name,
                source_db=source.name,
                table=table.name,
                dag_schedule=schedule,
                outlets=[raw_asset(table)],
                doc_md=f"`{table.key}` -> `raw.{table.raw_table}` ({table.kind}, {table.mode})",
            )
    return dag


def build_extract_dags(registry: Registry | None = None, only_dag_id: str | None = None) -> list[DAG]:
    """All extract DAGs in registry order, or just `only_dag_id` when a task is being run."""
    registry = registry or load_registry()
    dags = []
    for source in registry.sources:
        if only_dag_id and only_dag_id != f"extract__{source.name}":
            continue
        dags.append(build_extract_dag(source))
    return dags
