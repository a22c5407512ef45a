"""Retention: raw rows (and so the staging views over them) older than their table's
``retention_days`` (config/sources.yml; default per kind) are deleted in bounded batches.

Rows of users under a legal hold are kept (``compliance.legal_hold_active`` on .118, matched by
keyed ref, never by a user id). What was removed is written to ``compliance.governance_log``
(.118) after each batch commits. Writes go through ``etl_writer`` (so the kill switch stops them).

    from dataacuity import retention
    retention.enforce(retention.Links.from_airflow(), run_id="manual")
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from dataacuity import connections
from dataacuity.registry import Registry, load_registry
from dataacuity.sqlfiles import compose, query

log = logging.getLogger(__name__)

DEFAULT_BATCH_ROWS = 10_000
WRITER_ROLE = "etl_writer"


@dataclass(frozen=True)
class Links:
    compliance: Callable[[], psycopg.Connection]
    warehouse_etl: Callable[[], psycopg.Connection]

    @classmethod
    def from_airflow(cls) -> Links:
        return cls(
            compliance=connections.connector(connections.COMPLIANCE),
            warehouse_etl=connections.connector(connections.WAREHOUSE_ETL),
        )


def enforce(
    links: Links,
    run_id: str,
    registry: Registry | None = None,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    now: datetime | None = None,
) -> list[dict]:
    """Delete every raw table's rows past retention; returns one summary per table touched."""
    registry = registry or load_registry()
    now = now or datetime.now(UTC)
    with links.compliance() as conn:
        held_refs = [row[0] for row in conn.execute(query("retention/held_subjects.sql"))]
    summaries = []
    with links.warehouse_etl() as warehouse:
        for table in registry.tables():
            with warehouse.transaction():
                warehouse.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(WRITER_ROLE)))
                columns = {
                    row[0]
                    for row in warehouse.execute(
                        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                        "AND NOT attisdropped",
                        (".".join(table.qualified_raw),),
                    )
                }
            column = table.retention_column
            if column not in columns:
                continue  # not extracted yet
            cutoff = now - timedelta(days=table.retention_days)
            keep_held = bool(held_refs and table.user_column)
            hold_filter = (
                compose("retention/hold_filter.sql", user_column=sql.Identifier(table.user_column))
                if keep_held
                else sql.SQL("")
            )
            statement = compose(
                "retention/delete_batch.sql",
                raw=sql.Identifier(*table.qualified_raw),
                column=sql.Identifier(column),
                hold_filter=hold_filter,
            )
            removed = batches = 0
            while True:
                with warehouse.transaction():
                    warehouse.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(WRITER_ROLE)))
                    count = warehouse.execute(
                        statement, {"cutoff": cutoff, "batch_rows": batch_rows, "held_refs": held_refs}
                    ).rowcount
                if count:
                    batches += 1
                    removed += count
                    _log(links, table, count, cutoff, run_id, batches, batch_rows, keep_held)
                if count < batch_rows:
                    break
            if removed:
                summary = {
                    "table": ".".join(table.qualified_raw),
                    "rows_deleted": removed,
                    "batches": batches,
                    "cutoff": cutoff.isoformat(),
                    "retention_days": table.retention_days,
                    "legal_holds_kept": keep_held,
                }
                log.info("retention: %s", summary)
                summaries.append(summary)
    return summaries


def _log(links: Links, table, count: int, cutoff: datetime, run_id: str, batch: int, batch_rows: int, held: bool):
    with links.compliance() as conn, conn.transaction():
        conn.execute(
            query("retention/log.sql"),
            {
                "host": "warehouse_106",
                "target": ".".join(table.qualified_raw),
                "rows_affected": count,
                "cutoff": cutoff,
                "run_id": run_id,
                "details": Jsonb(
                    {
                        "batch": batch,
                        "batch_rows": batch_rows,
                        "retention_days": table.retention_days,
                        "column": table.retention_column,
                        "legal_holds_kept": held,
                    }
                ),
            },
        )
