"""ReplicaExtractOperator: one registry table from the .105 hot standby into raw on .106."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import BaseOperator
from croniter import croniter

from dataacuity import connections, kill_switch
from dataacuity.extract.core import ExtractError, extract_table, record_failure
from dataacuity.registry import Table, load_registry


class ReplicaExtractOperator(BaseOperator):
    """Extract `source_db.table` (as declared in config/sources.yml) into raw.{source_db}__{table}.

    Idempotent and restartable (see dataacuity.extract.core). On scheduled runs a table whose own
    schedule has no tick since the DAG's previous tick is skipped, so one DAG per source serves
    its 5-minute event tables and its hourly dimensions. Manual runs extract every table.
    Returns (XCom) the batch ids and row counts only.
    """

    ui_color = "#d6eaf8"

    def __init__(
        self,
        *,
        source_db: str,
        table: str,
        dag_schedule: str | None = None,
        replica_conn_id: str = connections.REPLICA,
        warehouse_conn_id: str = connections.WAREHOUSE_ETL,
        chunk_rows: int = 1_000_000,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.source_db = source_db
        self.table_name = table
        self.dag_schedule = dag_schedule
        self.replica_conn_id = replica_conn_id
        self.warehouse_conn_id = warehouse_conn_id
        self.chunk_rows = chunk_rows

    def execute(self, context):
        from airflow.sdk.exceptions import AirflowSkipException

        table = load_registry().table(self.source_db, self.table_name)
        dag_run = context.get("dag_run")
        logical_date = context.get("logical_date")
        scheduled = dag_run is not None and str(getattr(dag_run, "run_type", "")).endswith("scheduled")
        if scheduled and logical_date and not is_due(table, self.dag_schedule, logical_date):
            raise AirflowSkipException(f"{table.key}: not due at {logical_date} (schedule {table.schedule!r})")
        # Refuse to start while the kill switch is engaged, and stop when the warehouse refuses a
        # write mid-run: fail at once (no retries, nothing to retry until release), naming who and why.
        connect_warehouse = kill_switch.guarded(connections.connector(self.warehouse_conn_id))
        try:
            summary = extract_table(
                table,
                connections.connector(self.replica_conn_id, dbname=table.source_db),
                connect_warehouse,
                chunk_rows=self.chunk_rows,
            )
        except kill_switch.WritesRefusedError as error:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(str(error)) from error
        except ExtractError as error:
            record_failure(connections.connector(self.warehouse_conn_id), table, error)
            raise
        result = summary.as_dict()
        if result["window_end"] is not None:
            result["window_end"] = result["window_end"].isoformat()
        return result


def is_due(table: Table, dag_schedule: str | None, logical_date: datetime) -> bool:
    """Does the table's own schedule tick in (previous DAG tick, this DAG tick]?"""
    if not dag_schedule or dag_schedule == table.schedule:
        return True
    previous_tick = croniter(dag_schedule, logical_date).get_prev(datetime)
    next_table_tick = croniter(table.schedule, previous_tick).get_next(datetime)
    return next_table_tick <= logical_date
