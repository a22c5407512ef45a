"""Daily reconciliation of raw against the hot standby (issue 12 §5). Plain Python.

Per registry table, both sides are cut into buckets and each bucket gets a row count and a cheap
checksum (the sum of a 64-bit hash of every row's text over the columns both sides hold):
- a single integer primary key: key ranges of RECONCILE_KEY_RANGE ids;
- otherwise an event table: one bucket per day of its event time;
- otherwise: 64 buckets by a hash of the primary key.
The two sides are read at the same time (two connections), each one pass over the table.

Incremental tables compare the rows whose cursor is at or before the watermark (later rows are the
next extract's job); snapshot tables compare everything. A differing bucket is re-extracted
(extract.core.reextract_rows: any cursor value; rows gone at source are deleted from raw) and
compared again; a bucket that still differs is reported as `persisting` and raises
ReconcileMismatch (P2). Every result goes to etl.reconcile_result.

Right to be forgotten: the extract drops the rows of tombstoned users and blanks the values that
name them (extract.core._drop_forgotten, compliance.rtbf_forgotten_among), so raw never matches
the replica where the app still holds a forgotten user. A bucket that still differs after the
re-extract is compared once more against the replica's rows as the extract lands them (the same
tombstone check, on a copy of the bucket): what the tombstones withhold is not a difference; any
other difference in the bucket still is.

This is what finds what no cursor can: a row whose cursor was set backwards (before the
watermark), a row lost from raw, a late transaction released after its limit.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from dataacuity.extract import core
from dataacuity.registry import Registry, Table
from dataacuity.sqlfiles import compose, query

log = logging.getLogger(__name__)

RECONCILE_KEY_RANGE = 10_000
HASH_BUCKETS = 64
ALERTNAME = "ReconcileMismatch"


@dataclass
class TableReconciliation:
    source_db: str
    table_name: str
    buckets: int = 0
    replica_rows: int = 0
    raw_rows: int = 0
    repaired: list[str] = field(default_factory=list)  # buckets that differed and now agree
    persisting: list[str] = field(default_factory=list)  # buckets that still differ
    rows_repaired: int = 0
    withheld_rows: int = 0  # replica rows of forgotten (tombstoned) users that raw never holds
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.source_db}.{self.table_name}"


class _Bucketing:
    """How one table is cut into buckets, as SQL over its unqualified column names."""

    def __init__(self, table: Table, columns: list[core.Column]):
        types = {c.name: c.data_type for c in columns}
        key = table.primary_key[0]
        if len(table.primary_key) == 1 and types.get(key) in core.INTEGER_TYPES:
            self.kind = "key"
            self.expression = sql.SQL("floor({} / {}::numeric)::bigint::text").format(
                sql.Identifier(key), sql.Literal(RECONCILE_KEY_RANGE)
            )
        elif table.kind == "event" and table.event_time in types:
            self.kind = "day"
            self.expression = sql.SQL("date_trunc('day', {})::date::text").format(sql.Identifier(table.event_time))
        else:
            self.kind = "hash"
            self.expression = sql.SQL("(hashtextextended(ROW({})::text, 0) & {})::text").format(
                sql.SQL(", ").join(map(sql.Identifier, table.primary_key)), sql.Literal(HASH_BUCKETS - 1)
            )
        self.key = key

    def predicate(self, bucket: str | None) -> sql.Composable:
        """The rows of one bucket (an index range for key buckets)."""
        if self.kind == "key" and bucket is not None:
            low = int(bucket) * RECONCILE_KEY_RANGE
            return sql.SQL("{k} >= {a} AND {k} < {b}").format(
                k=sql.Identifier(self.key), a=sql.Literal(low), b=sql.Literal(low + RECONCILE_KEY_RANGE)
            )
        return sql.SQL("{} IS NOT DISTINCT FROM {}").format(self.expression, sql.Literal(bucket))


def _checksums(
    conn: psycopg.Connection, relation: sql.Composable, bucketing: _Bucketing, row: sql.Composable, where
) -> dict[str | None, tuple[int, int]]:
    rows = conn.execute(
        compose(
            "reconcile/bucket_checksums.sql",
            bucket=bucketing.expression,
            row=row,
            relation=relation,
            predicate=where,
        )
    ).fetchall()
    return {bucket: (count, checksum) for bucket, count, checksum in rows}


def _as_extract_lands(
    table: Table,
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    columns: list[core.Column],
    bucketing: _Bucketing,
    where: sql.Composable,
) -> dict[str | None, tuple[int, int]] | None:
    """The replica's checksums of `where` after the extract's tombstone rules (rows of forgotten
    users dropped, values naming them blanked: core._drop_forgotten, the extract's own check).
    None while no tombstone exists (nothing is withheld)."""
    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    stage = sql.Identifier("reconcile_as_landed")
    with core._writer_transaction(warehouse, table):
        if not warehouse.execute("SELECT compliance.rtbf_has_tombstones()").fetchone()[0]:
            return None
        warehouse.execute(
            compose("extract/backfill_stage.sql", stage=stage, columns=names, raw=sql.Identifier(*table.qualified_raw))
        )
        core._stream(
            source,
            warehouse,
            compose(
                "reconcile/copy_out_rows.sql",
                columns=names,
                source=sql.Identifier(core.SOURCE_SCHEMA, table.name),
                predicate=where,
            ),
            compose("reconcile/copy_in_rows.sql", target=stage, columns=names),
        )
        source.commit()
        core._drop_forgotten(warehouse, table, stage, sql.SQL("true"), {c.name for c in columns})
        row = sql.SQL("ROW({})").format(names)
        return _checksums(warehouse, stage, bucketing, row, sql.SQL("true"))


def reconcile_table(
    table: Table,
    connect_replica: Callable[[], psycopg.Connection],
    connect_warehouse: Callable[[], psycopg.Connection],
    run_id: str | None = None,
) -> TableReconciliation:
    """Compare one table's replica and raw bucket by bucket; re-extract and re-check what differs."""
    run_id = run_id or str(uuid.uuid4())
    outcome = TableReconciliation(table.source_db, table.name)
    with connect_replica() as source, connect_warehouse() as warehouse:
        for conn in (source, warehouse):
            conn.execute("SET TIME ZONE 'UTC'")
            conn.commit()
        columns = core.common_columns(source, warehouse, table)
        bucketing = _Bucketing(table, columns)
        row = sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
        with core._writer_transaction(warehouse, table):
            watermark = warehouse.execute(
                query("extract/read_watermark.sql"), {"source_db": table.source_db, "table_name": table.name}
            ).fetchone()
        if table.is_incremental:
            if watermark is None or watermark[0] is None:
                log.info("%s: never extracted; nothing to reconcile", table.key)
                return outcome
            scope = sql.SQL("{} <= {}").format(sql.Identifier(table.cursor), sql.Literal(watermark[0]))
        else:
            scope = sql.SQL("true")
        source_relation = sql.Identifier(core.SOURCE_SCHEMA, table.name)
        raw_relation = sql.Identifier(*table.qualified_raw)

        def compare(where: sql.Composable) -> tuple[dict, dict]:
            with ThreadPoolExecutor(max_workers=1) as pool:
                replica_side = pool.submit(_checksums, source, source_relation, bucketing, row, where)
                with core._writer_transaction(warehouse, table):
                    raw_side = _checksums(warehouse, raw_relation, bucketing, row, where)
                replica = replica_side.result()
            source.commit()
            return replica, raw_side

        replica, raw = compare(scope)
        outcome.buckets = len(set(replica) | set(raw))
        outcome.replica_rows = sum(count for count, _ in replica.values())
        outcome.raw_rows = sum(count for count, _ in raw.values())
        differing = sorted((b for b in set(replica) | set(raw) if replica.get(b) != raw.get(b)), key=str)
        results = []
        for bucket in differing:
            label = "NULL" if bucket is None else str(bucket)
            before = (replica.get(bucket, (0, 0))[0], raw.get(bucket, (0, 0))[0])
            batch = core.reextract_rows(table, source, warehouse, bucketing.predicate(bucket))
            repaired = batch.rows_inserted + batch.rows_updated + batch.rows_deleted
            outcome.rows_repaired += repaired
            where = sql.SQL("({}) AND ({})").format(scope, bucketing.predicate(bucket))
            replica_after, raw_after = compare(where)
            withheld = ""
            if replica_after.get(bucket) != raw_after.get(bucket):
                landed = _as_extract_lands(table, source, warehouse, columns, bucketing, where)
                if landed is not None and landed.get(bucket) == raw_after.get(bucket):
                    outcome.withheld_rows += replica_after.get(bucket, (0, 0))[0] - landed.get(bucket, (0, 0))[0]
                    replica_after = landed
                    withheld = "; the rest is withheld by RTBF tombstones (as the extract lands it)"
            if replica_after.get(bucket) != raw_after.get(bucket):
                status = "persisting"
                outcome.persisting.append(label)
            elif withheld and not repaired:
                status = "match"  # the only difference is what the tombstones withhold, every night
            else:
                status = "repaired"
                outcome.repaired.append(label)
            detail = (
                f"{bucketing.kind} bucket {label}: replica {before[0]} rows, raw {before[1]} rows before; "
                f"re-extract +{batch.rows_inserted} ~{batch.rows_updated} -{batch.rows_deleted}{withheld}"
            )
            log.warning("%s: %s -> %s", table.key, detail, status)
            results.append((label, before[0], before[1], status, repaired, detail))
        if not differing:
            results.append(("*", outcome.replica_rows, outcome.raw_rows, "match", 0, f"{outcome.buckets} buckets"))
        with core._writer_transaction(warehouse, table):
            for bucket, replica_rows, raw_rows, status, repaired, detail in results:
                warehouse.execute(
                    query("reconcile/record_result.sql"),
                    {
                        "run_id": run_id,
                        "source_db": table.source_db,
                        "table_name": table.name,
                        "bucket": bucket,
                        "replica_rows": replica_rows,
                        "raw_rows": raw_rows,
                        "status": status,
                        "rows_repaired": repaired,
                        "detail": detail,
                    },
                )
    return outcome


def mismatch_alert(outcome: TableReconciliation, log_url: str = ""):
    from dataacuity.alerting import Alert

    return Alert(
        labels={"alertname": ALERTNAME, "severity": "P2", "source_db": outcome.source_db, "table": outcome.table_name},
        annotations={
            "summary": f"{outcome.key}: raw still differs from the replica after re-extracting",
            "description": (
                f"buckets {outcome.persisting[:20]} differ after repair ({outcome.rows_repaired} rows re-extracted). "
                "SELECT * FROM etl.reconcile_result WHERE status = 'persisting' ORDER BY checked_at DESC"
            ),
            "log_url": log_url,
        },
        generator_url=log_url,
    )


def reconcile_source(
    registry: Registry,
    source_db: str,
    connect_replica: Callable[[], psycopg.Connection],
    connect_warehouse: Callable[[], psycopg.Connection],
    *,
    notify: Callable | None = None,
    log_url: str = "",
) -> list[TableReconciliation]:
    """Reconcile every table of one source (reconcile: true); one table's failure spares the others.

    Raises after all tables when one failed, so the task fails (TaskFailed) with every name in it."""
    run_id = str(uuid.uuid4())
    outcomes = []
    for table in registry.source(source_db).tables:
        if not table.reconcile:
            continue
        try:
            outcome = reconcile_table(table, connect_replica, connect_warehouse, run_id)
        except Exception as error:
            log.exception("%s: reconcile failed", table.key)
            outcome = TableReconciliation(table.source_db, table.name, error=f"{type(error).__name__}: {error}")
        outcomes.append(outcome)
        log.info(
            "%s: %d buckets, replica %d rows, raw %d rows, repaired %s, persisting %s",
            outcome.key,
            outcome.buckets,
            outcome.replica_rows,
            outcome.raw_rows,
            outcome.repaired,
            outcome.persisting,
        )
    persisting = [o for o in outcomes if o.persisting]
    if persisting and notify is not None:
        notify([mismatch_alert(o, log_url) for o in persisting])
    failed = [o for o in outcomes if o.error]
    if failed:
        raise RuntimeError("reconcile failed for " + "; ".join(f"{o.key}: {o.error}" for o in failed))
    return outcomes
