"""Replica -> warehouse extract of one registry table. Plain Python: no Airflow needed.

One batch = one warehouse transaction that lands the rows in raw, advances the watermark and
writes the batch log together, so a crash anywhere leaves raw and the watermark as they were.

Incremental tables read the window (watermark - lookback, replayed_until]: the look-back re-reads
rows whose transaction committed late with an earlier cursor value, and merging on the primary
key makes the overlap (and any rerun) free of duplicates. The upper bound never passes what the
standby has replayed. Rows identical to raw are skipped, not rewritten.

Snapshot tables (small dimensions) are read whole each run; raw mirrors the source, so rows
deleted at source are deleted from raw (counted as rows_deleted).

An initial load of a table with a single integer primary key is chunked by key range so no
single standby query runs long; each chunk is its own batch, and a chunk whose key range is
still empty in raw is copied straight into raw (no staging, no merge).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
from psycopg import errors, sql

from dataacuity.kill_switch import WritesRefusedError
from dataacuity.registry import Table
from dataacuity.sqlfiles import compose, query

log = logging.getLogger(__name__)

SOURCE_SCHEMA = "public"
WRITER_ROLE = "etl_writer"
COPY_FLUSH_BYTES = 1 << 20
WAREHOUSE_TEMP_BUFFERS = "512MB"
WAREHOUSE_WORK_MEM = "256MB"
INTEGER_TYPES = ("smallint", "integer", "bigint")
# Types without a default equality operator: compared as text when looking for changed rows.
TYPES_COMPARED_AS_TEXT = (
    "json",
    "xml",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
)
# In-place type changes raw accepts (the new type holds every old value).
SAFE_WIDENINGS = {
    ("smallint", "integer"),
    ("smallint", "bigint"),
    ("integer", "bigint"),
    ("real", "double precision"),
    ("character varying", "text"),
    ("timestamp without time zone", "timestamp with time zone"),
}


class ExtractError(RuntimeError):
    """The extract of one table cannot go on; the message names the table and the fix."""


class NotAReplicaError(ExtractError):
    pass


class SchemaDriftError(ExtractError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    has_default: bool = False  # at source: existing rows read the default when the column is added

    @property
    def needs_text_comparison(self) -> bool:
        return self.data_type.split("(")[0].split("[")[0] in TYPES_COMPARED_AS_TEXT


@dataclass
class BatchResult:
    batch_id: str
    source_db: str
    table_name: str
    mode: str
    window_start: datetime | None
    window_end: datetime | None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0
    duration_s: float = 0.0
    replica_lag_s: float | None = None
    columns_added: list[str] = field(default_factory=list)
    # Late commits: the watermark written (held back while primary transactions are open), and
    # the oldest running primary transaction when it is open past late_commit_limit_minutes
    # (reported, no longer held for) with when it was first seen.
    watermark: datetime | None = None
    late_xid: int | None = None
    late_since: datetime | None = None


@dataclass
class ExtractSummary:
    """What one extract_table call did, over all its batches (chunks)."""

    source_db: str
    table_name: str
    batches: list[BatchResult]

    @property
    def rows_read(self) -> int:
        return sum(b.rows_read for b in self.batches)

    @property
    def rows_inserted(self) -> int:
        return sum(b.rows_inserted for b in self.batches)

    @property
    def rows_updated(self) -> int:
        return sum(b.rows_updated for b in self.batches)

    @property
    def rows_deleted(self) -> int:
        return sum(b.rows_deleted for b in self.batches)

    @property
    def late_xids(self) -> list[int]:
        """Primary transactions open longer than the table's late-commit limit (page P2)."""
        return sorted({b.late_xid for b in self.batches if b.late_xid is not None})

    def as_dict(self) -> dict:
        """XCom-safe summary (no values from the data, no credentials)."""
        return {
            "source_db": self.source_db,
            "table": self.table_name,
            "batches": [b.batch_id for b in self.batches],
            "rows_read": self.rows_read,
            "rows_inserted": self.rows_inserted,
            "rows_updated": self.rows_updated,
            "rows_deleted": self.rows_deleted,
            "late_xids": self.late_xids,
            "window_end": max((b.window_end for b in self.batches if b.window_end), default=None),
        }


# ---------------------------------------------------------------------------------------------


def extract_table(
    table: Table,
    connect_replica: Callable[[], psycopg.Connection],
    connect_warehouse: Callable[[], psycopg.Connection],
    *,
    chunk_rows: int = 1_000_000,
    max_attempts: int = 5,
    backoff_s: float = 0.5,
) -> ExtractSummary:
    """Land one registry table in raw. Safe to rerun; safe to kill at any point."""
    summary = ExtractSummary(table.source_db, table.name, [])
    with connect_replica() as source, connect_warehouse() as warehouse:
        _prepare_session(source)
        # The stage is a temp table: keep a large batch in memory and its key join in one hash.
        _prepare_session(warehouse, temp_buffers=WAREHOUSE_TEMP_BUFFERS, work_mem=WAREHOUSE_WORK_MEM)
        state = _replica_state(source, table)
        source_columns = read_source_columns(source, table)
        raw_columns, added = _ensure_raw_table(warehouse, table, source_columns)
        if added:
            _backfill_added_columns(source, warehouse, table, [c for c in source_columns if c.name in added], state)
        plan = _Plan(table, source_columns, raw_columns)
        for window in _windows(source, warehouse, table, plan, state, chunk_rows):
            result = _with_recovery_retries(
                lambda w=window: _run_batch(source, warehouse, table, plan, state, w),
                source,
                warehouse,
                table,
                max_attempts,
                backoff_s,
            )
            result.columns_added = added
            added = []
            summary.batches.append(result)
            if window.advances_watermark or table.is_snapshot:
                with _writer_transaction(warehouse, table):
                    warehouse.execute(
                        compose(
                            "extract/create_extracted_at_index.sql",
                            index=sql.Identifier(f"{table.raw_table[:48]}__extracted_at"),
                            raw=sql.Identifier(*table.qualified_raw),
                        )
                    )
                    for index, column in _erasure_indexes(table, {c.name for c in plan.columns}):
                        warehouse.execute(
                            compose(
                                "extract/create_erasure_index.sql",
                                index=sql.Identifier(index),
                                raw=sql.Identifier(*table.qualified_raw),
                                column=sql.Identifier(column),
                            )
                        )
            rate = result.rows_read / result.duration_s if result.duration_s else 0.0
            log.info(
                "%s: batch %s read %d rows (%.0f rows/s): +%d inserted, %d updated, %d deleted",
                table.key,
                result.batch_id,
                result.rows_read,
                rate,
                result.rows_inserted,
                result.rows_updated,
                result.rows_deleted,
            )
    return summary


def reextract_rows(
    table: Table,
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    where: sql.Composable,
) -> BatchResult:
    """Re-read the source rows matching `where` (any cursor value) and make raw's rows matching it
    the same: changed rows updated, missing ones inserted, ones gone at source deleted. The
    watermark is not touched. Used by reconciliation for a differing key range or day."""
    _prepare_session(source)
    _prepare_session(warehouse, temp_buffers=WAREHOUSE_TEMP_BUFFERS, work_mem=WAREHOUSE_WORK_MEM)
    state = _replica_state(source, table)
    source_columns = read_source_columns(source, table)
    raw_columns, _added = _ensure_raw_table(warehouse, table, source_columns)
    plan = _Plan(table, source_columns, raw_columns)
    window = Window(start=None, end=None, advances_watermark=False, where=where)
    return _run_batch(source, warehouse, table, plan, state, window)


def common_columns(source: psycopg.Connection, warehouse: psycopg.Connection, table: Table) -> list[Column]:
    """Source columns that raw holds with the same type (what reconciliation compares)."""
    source_columns = read_source_columns(source, table)
    with _writer_transaction(warehouse, table):
        raw_types = {
            name: data_type
            for name, data_type in warehouse.execute(
                query("extract/raw_columns.sql"), {"schema": table.qualified_raw[0], "table": table.raw_table}
            )
        }
    return [c for c in source_columns if raw_types.get(c.name) == c.data_type]


def _prepare_session(conn: psycopg.Connection, **settings: str) -> None:
    conn.execute("SET TIME ZONE 'UTC'")
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.commit()


@dataclass(frozen=True)
class ReplicaState:
    in_recovery: bool
    replayed_until: datetime | None
    server_now: datetime
    replica_lag_s: float | None
    # The standby's snapshot of the primary's transactions (xid8): xmin = the oldest still
    # running (xmin == xmax: none), xmax = the next to be assigned.
    snapshot_xmin: int | None = None
    snapshot_xmax: int | None = None

    @property
    def transactions_running(self) -> bool:
        return self.snapshot_xmin is not None and self.snapshot_xmin < self.snapshot_xmax

    @property
    def upper_bound(self) -> datetime:
        """No later than what the standby has replayed (a row committed after it is invisible)."""
        if self.in_recovery and self.replayed_until is not None:
            return min(self.replayed_until, self.server_now)
        return self.server_now


def _replica_state(source: psycopg.Connection, table: Table) -> ReplicaState:
    row = source.execute(query("extract/replica_state.sql")).fetchone()
    xmin, xmax = source.execute(query("extract/replica_snapshot.sql")).fetchone()
    source.commit()
    state = ReplicaState(*row, snapshot_xmin=xmin, snapshot_xmax=xmax)
    if not state.in_recovery and table.server != "primary":
        info = source.info
        raise NotAReplicaError(
            f"{table.key}: the server at {info.host}:{info.port} is not in recovery, i.e. not a "
            "read replica. The ETL reads only the hot standby (.105). If this source really must be "
            "read from a primary, set `server: primary` for it in config/sources.yml."
        )
    if state.in_recovery and state.replayed_until is None:
        log.warning(
            "%s: the standby reports no replay timestamp yet; using its clock",
            table.key,
        )
    return state


def read_source_columns(source: psycopg.Connection, table: Table) -> list[Column]:
    rows = source.execute(
        query("extract/source_columns.sql"),
        {"schema": SOURCE_SCHEMA, "table": table.name},
    ).fetchall()
    source.commit()
    if not rows:
        raise ExtractError(
            f"{table.key}: table {SOURCE_SCHEMA}.{table.name} not found in database "
            f"{table.source_db} on the replica (check config/sources.yml)"
        )
    columns = [Column(name, data_type, has_default) for name, data_type, _is_enum, has_default in rows]
    names = {c.name for c in columns}
    wanted = set(table.primary_key) | {c for c in (table.cursor, table.event_time) if c}
    missing = sorted(wanted - names)
    if missing:
        raise ExtractError(
            f"{table.key}: column(s) {missing} named in config/sources.yml do not exist at source "
            f"(source columns: {sorted(names)})"
        )
    return columns


def _ensure_raw_table(
    warehouse: psycopg.Connection, table: Table, source_columns: list[Column]
) -> tuple[list[Column], list[str]]:
    """Create raw on first sight; follow schema drift. Returns (raw columns, added names)."""
    raw = sql.Identifier(*table.qualified_raw)
    schema, name = table.qualified_raw
    with _writer_transaction(warehouse, table):
        existing = [
            Column(*row)
            for row in warehouse.execute(query("extract/raw_columns.sql"), {"schema": schema, "table": name})
        ]
        if not existing:
            definitions = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.data_type)) for c in source_columns
            )
            warehouse.execute(
                compose(
                    "extract/create_raw_table.sql",
                    raw=raw,
                    column_definitions=definitions,
                    primary_key=sql.SQL(", ").join(map(sql.Identifier, table.primary_key)),
                )
            )
            log.info(
                "%s: created raw.%s with %d columns",
                table.key,
                name,
                len(source_columns),
            )
            return [*source_columns], []
        by_name = {c.name: c for c in existing}
        added = []
        for column in source_columns:
            current = by_name.get(column.name)
            if current is None:
                warehouse.execute(
                    sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                        raw, sql.Identifier(column.name), sql.SQL(column.data_type)
                    )
                )
                added.append(column.name)
                log.warning(
                    "%s: new source column %r (%s) added to raw",
                    table.key,
                    column.name,
                    column.data_type,
                )
            elif current.data_type != column.data_type:
                if not _is_safe_widening(current.data_type, column.data_type):
                    raise SchemaDriftError(
                        f"{table.key}: column {column.name!r} changed type at source from "
                        f"{current.data_type} to {column.data_type}, which raw.{name} cannot take "
                        "without losing or reinterpreting data. Extract of this table is stopped; "
                        "migrate raw by hand (or re-land the table) and rerun."
                    )
                warehouse.execute(
                    sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {}").format(
                        raw, sql.Identifier(column.name), sql.SQL(column.data_type)
                    )
                )
                log.warning(
                    "%s: column %r widened in raw: %s -> %s",
                    table.key,
                    column.name,
                    current.data_type,
                    column.data_type,
                )
        source_names = {c.name for c in source_columns}
        dropped = [c.name for c in existing if c.name not in source_names and not c.name.startswith("_extract")]
        if dropped:
            log.warning(
                "%s: column(s) %s no longer at source; kept in raw, NULL from now on",
                table.key,
                dropped,
            )
        raw_columns = [c for c in existing if not c.name.startswith("_extract")]
        raw_columns += [c for c in source_columns if c.name in added]
        return raw_columns, added


def _backfill_added_columns(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    table: Table,
    added: list[Column],
    state: ReplicaState,
) -> int:
    """Give existing raw rows the value a column added at source with a default has for them."""
    with_default = [c for c in added if c.has_default]
    if not with_default:
        return 0
    names = [*table.primary_key, *(c.name for c in with_default)]
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    stage = sql.Identifier(f"_backfill_{uuid.uuid4().hex[:12]}")
    raw = sql.Identifier(*table.qualified_raw)

    def values(alias: str) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("{}::text").format(sql.Identifier(alias, c.name))
            if c.needs_text_comparison
            else sql.Identifier(alias, c.name)
            for c in with_default
        )

    with _writer_transaction(warehouse, table):
        warehouse.execute(compose("extract/backfill_stage.sql", stage=stage, columns=columns, raw=raw))
        _stream(
            source,
            warehouse,
            compose("extract/backfill_copy_out.sql", columns=columns, source=sql.Identifier(SOURCE_SCHEMA, table.name)),
            compose("extract/copy_in_columns.sql", target=stage, columns=columns),
        )
        source.commit()
        updated = warehouse.execute(
            compose(
                "extract/backfill_update.sql",
                raw=raw,
                stage=stage,
                assignments=sql.SQL(", ").join(
                    sql.SQL("{c} = s.{c}").format(c=sql.Identifier(c.name)) for c in with_default
                ),
                extracted_at=sql.Literal(state.server_now),
                key_match=sql.SQL(" AND ").join(
                    sql.SQL("r.{k} = s.{k}").format(k=sql.Identifier(k)) for k in table.primary_key
                ),
                raw_values=values("r"),
                stage_values=values("s"),
            )
        ).rowcount
    log.warning(
        "%s: column(s) %s added at source with a default: backfilled %d existing raw row(s)",
        table.key,
        [c.name for c in with_default],
        updated,
    )
    return updated


INTEGER_DIGITS = {"smallint": 5, "integer": 10, "bigint": 19}


def _type_parts(data_type: str) -> tuple[str, list[int]]:
    """'numeric(9,6)' -> ('numeric', [9, 6]); 'text' -> ('text', [])."""
    if "(" not in data_type or data_type.endswith("]"):
        return data_type, []
    base, _, rest = data_type.partition("(")
    return base, [int(x) for x in rest[: rest.index(")")].split(",")]


def _is_safe_widening(old: str, new: str) -> bool:
    """Does every value of type `old` fit in `new` unchanged (so raw can follow the source)?

    Integer widening, varchar(n) -> varchar(m >= n) / varchar / text, numeric(p,s) -> numeric with
    at least as many integer digits (p - s) and decimals (s), integers -> a numeric that holds them."""
    base_old, args_old = _type_parts(old)
    base_new, args_new = _type_parts(new)
    if (base_old, base_new) in SAFE_WIDENINGS:
        return True
    if base_old == base_new == "character varying":
        return not args_new or (bool(args_old) and args_new[0] >= args_old[0])
    if base_new == "numeric":
        if not args_new:
            return base_old == "numeric" or base_old in INTEGER_DIGITS
        new_scale = args_new[1] if len(args_new) > 1 else 0
        if base_old in INTEGER_DIGITS:
            return args_new[0] - new_scale >= INTEGER_DIGITS[base_old]
        if base_old == "numeric" and args_old:
            old_scale = args_old[1] if len(args_old) > 1 else 0
            return new_scale >= old_scale and args_new[0] - new_scale >= args_old[0] - old_scale
    return False


class _Plan:
    """The SQL pieces for one table, composed once per run."""

    def __init__(self, table: Table, source_columns: list[Column], raw_columns: list[Column]):
        self.table = table
        self.raw = sql.Identifier(*table.qualified_raw)
        self.source = sql.Identifier(SOURCE_SCHEMA, table.name)
        self.stage = sql.Identifier(f"_stage_{uuid.uuid4().hex[:12]}")
        present = {c.name for c in source_columns}
        # Columns read from the source; raw columns gone at source are left out (NULL for new rows).
        self.columns = [c for c in raw_columns if c.name in present]
        self.column_list = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.columns)
        self.stage_column_list = sql.SQL(", ").join(sql.Identifier("s", c.name) for c in self.columns)
        self.key_match = sql.SQL(" AND ").join(
            sql.SQL("r.{k} = s.{k}").format(k=sql.Identifier(k)) for k in table.primary_key
        )
        compared = [c for c in self.columns if c.name not in table.primary_key]

        def values(alias: str) -> sql.Composable:
            if not compared:
                return sql.SQL("1")
            return sql.SQL(", ").join(
                sql.SQL("{}::text").format(sql.Identifier(alias, c.name))
                if c.needs_text_comparison
                else sql.Identifier(alias, c.name)
                for c in compared
            )

        self.raw_values = values("r")
        self.stage_values = values("s")
        self.assignments = (
            sql.SQL(", ").join(sql.SQL("{c} = s.{c}").format(c=sql.Identifier(c.name)) for c in compared)
            if compared
            else sql.SQL("{k} = s.{k}").format(k=sql.Identifier(table.primary_key[0]))
        )
        key_types = [c.data_type for c in source_columns if c.name in table.primary_key]
        self.chunkable = len(table.primary_key) == 1 and key_types[0] in INTEGER_TYPES


@dataclass(frozen=True)
class Window:
    """One batch's slice of the source: a cursor window and/or a primary-key range."""

    start: datetime | None  # exclusive; None = from the beginning
    end: datetime | None  # inclusive upper bound on the cursor; None = snapshot (no cursor bound)
    key_from: int | None = None  # inclusive
    key_to: int | None = None  # exclusive
    advances_watermark: bool = True
    # Reconciliation: re-extract exactly these rows (any cursor value) and mirror them in raw.
    where: sql.Composable | None = None

    def predicate(self, table: Table) -> sql.Composable:
        if self.where is not None:
            return self.where
        parts: list[sql.Composable] = []
        if table.is_incremental:
            cursor = sql.Identifier(table.cursor)
            if self.start is not None:
                parts.append(sql.SQL("{} > {}").format(cursor, sql.Literal(self.start)))
            parts.append(sql.SQL("{} <= {}").format(cursor, sql.Literal(self.end)))
        if self.key_from is not None:
            key = sql.Identifier(table.primary_key[0])
            parts.append(sql.SQL("{} >= {}").format(key, sql.Literal(self.key_from)))
            parts.append(sql.SQL("{} < {}").format(key, sql.Literal(self.key_to)))
        return sql.SQL(" AND ").join(parts) if parts else sql.SQL("true")

    def predicate_on_key(self, table: Table) -> sql.Composable:
        key = sql.Identifier(table.primary_key[0])
        return sql.SQL("{k} >= {a} AND {k} < {b}").format(
            k=key, a=sql.Literal(self.key_from), b=sql.Literal(self.key_to)
        )


def _windows(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    table: Table,
    plan: _Plan,
    state: ReplicaState,
    chunk_rows: int,
) -> Iterator[Window]:
    if table.is_snapshot:
        yield Window(start=None, end=None)
        return
    upper = state.upper_bound
    with _writer_transaction(warehouse, table):
        watermark = warehouse.execute(
            query("extract/read_watermark.sql"),
            {"source_db": table.source_db, "table_name": table.name},
        ).fetchone()
    if watermark is not None and watermark[0] is not None:
        start = watermark[0] - timedelta(minutes=table.lookback_minutes)
        yield Window(start=start, end=max(upper, watermark[0]))
        return
    # Initial load.
    if not plan.chunkable:
        yield Window(start=None, end=upper)
        return
    whole = Window(start=None, end=upper)
    low, high = source.execute(
        compose(
            "extract/key_range.sql",
            key=sql.Identifier(table.primary_key[0]),
            source=plan.source,
            predicate=whole.predicate(table),
        )
    ).fetchone()
    source.commit()
    if low is None:
        yield whole
        return
    starts = list(range(low, high + 1, chunk_rows))
    for index, key_from in enumerate(starts):
        last = index == len(starts) - 1
        yield Window(
            start=None,
            end=upper,
            key_from=key_from,
            key_to=high + 1 if last else key_from + chunk_rows,
            advances_watermark=last,
        )


def _with_recovery_retries(run, source, warehouse, table: Table, max_attempts: int, backoff_s: float):
    """Retry a batch cancelled by a recovery conflict on the standby (SQLSTATE 40001)."""
    for attempt in range(1, max_attempts + 1):
        try:
            return run()
        except errors.SerializationFailure as error:
            source.rollback()
            warehouse.rollback()
            if attempt == max_attempts:
                raise ExtractError(
                    f"{table.key}: standby cancelled the read {max_attempts} times "
                    f"(conflict with recovery): {error}. Consider hot_standby_feedback=on on .105 "
                    "or a smaller chunk."
                ) from error
            delay = backoff_s * 2 ** (attempt - 1)
            log.warning(
                "%s: %s; retrying in %.1fs (attempt %d)",
                table.key,
                error,
                delay,
                attempt,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


@contextmanager
def _writer_transaction(warehouse: psycopg.Connection, table: Table):
    """A warehouse transaction acting as etl_writer, serialised per raw table."""
    with warehouse.transaction():
        try:
            warehouse.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(WRITER_ROLE)))
        except errors.InsufficientPrivilege as error:
            raise WritesRefusedError(
                f"{table.key}: the warehouse refuses writes for this role ({error.diag.message_primary}). "
                "Writes into the warehouse are revoked: is the kill switch engaged? "
                "See docs/runbooks/KillSwitchEngaged.md"
            ) from error
        warehouse.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            (".".join(table.qualified_raw),),
        )
        yield


def _run_batch(
    source: psycopg.Connection,
    warehouse: psycopg.Connection,
    table: Table,
    plan: _Plan,
    state: ReplicaState,
    window: Window,
) -> BatchResult:
    started = time.monotonic()
    batch_id = uuid.uuid4()
    extracted_at = state.server_now
    result = BatchResult(
        str(batch_id),
        table.source_db,
        table.name,
        table.mode,
        window.start,
        window.end,
        replica_lag_s=state.replica_lag_s,
    )
    predicate = window.predicate(table)
    copy_out = compose(
        "extract/copy_out.sql",
        columns=plan.column_list,
        extracted_at=sql.Literal(extracted_at),
        batch_id=sql.Literal(str(batch_id)),
        source=plan.source,
        predicate=predicate,
    )
    with _writer_transaction(warehouse, table):
        direct = (
            window.key_from is not None
            and warehouse.execute(
                compose(
                    "extract/range_is_empty.sql",
                    raw=plan.raw,
                    predicate=window.predicate_on_key(table),
                )
            ).fetchone()[0]
        )
        target = plan.raw if direct else plan.stage
        if not direct:
            warehouse.execute(compose("extract/create_stage.sql", stage=plan.stage, raw=plan.raw))
        result.rows_read = _stream(
            source,
            warehouse,
            copy_out,
            compose("extract/copy_in.sql", target=target, columns=plan.column_list),
        )
        source.commit()
        superseded = 0 if direct else _drop_superseded_by_forgotten(warehouse, table, plan)
        forgotten = _drop_forgotten(
            warehouse,
            table,
            target,
            window.predicate_on_key(table) if direct else sql.SQL("true"),
            {c.name for c in plan.columns},
        )
        if direct:
            result.rows_inserted = result.rows_read - forgotten
        else:
            _merge(warehouse, plan, table, result, mirror=window.where)
            result.rows_deleted += superseded
        if table.is_incremental and window.advances_watermark:
            result.watermark = _hold_for_open_transactions(warehouse, table, state, window, result)
            warehouse.execute(
                query("extract/write_watermark.sql"),
                {
                    "source_db": table.source_db,
                    "table_name": table.name,
                    "cursor_value": result.watermark,
                    "batch_id": batch_id,
                },
            )
        result.duration_s = time.monotonic() - started
        warehouse.execute(
            query("extract/log_batch.sql"),
            _batch_row(result, "success", None, extracted_at),
        )
    return result


def _hold_for_open_transactions(
    warehouse: psycopg.Connection, table: Table, state: ReplicaState, window: Window, result: BatchResult
) -> datetime:
    """The watermark this batch may write: window.end, held back while primary transactions are open.

    A transaction's rows carry the cursor value of its start (now()), and it may commit long after
    the window has moved past that value: the look-back alone loses it once it stays open longer.
    The standby's snapshot [xmin, xmax) bounds the primary's running transactions (on a standby it
    lists no individual xids; xmin is the oldest one running). Every transaction in a range first
    seen now took its xid after the previous batch read its snapshot, so its rows carry cursor
    values after that batch's upper bound (less the look-back): the watermark is held there while
    the range may hold a running transaction (xid_to > current xmin), and the first batch after the
    commit re-reads them. Under steady load the watermark trails one batch. Held no longer than
    late_commit_limit_minutes: then the oldest running transaction is reported (result.late_xid ->
    ExtractLateTransaction P2) and reconciliation repairs what it writes.
    Caveat (documented): a transaction idle for longer than the look-back BEFORE its first write
    has no xid while idle and cannot be seen by any snapshot.
    """
    params = {"source_db": table.source_db, "table_name": table.name, "xmin": state.snapshot_xmin}
    if state.snapshot_xmin is None:
        return window.end
    warehouse.execute(query("extract/open_xact_forget_ended.sql"), params)
    if state.transactions_running:
        fallback = window.end - timedelta(minutes=table.lookback_minutes)
        warehouse.execute(
            query("extract/open_xact_record.sql"), {**params, "xmax": state.snapshot_xmax, "fallback": fallback}
        )
    hold, late_since = warehouse.execute(
        query("extract/open_xact_hold.sql"),
        {**params, "limit": timedelta(minutes=table.late_commit_limit_minutes)},
    ).fetchone()
    if late_since is not None:
        result.late_xid = state.snapshot_xmin
        result.late_since = late_since
        log.error(
            "%s: primary transaction %s running since before %s, longer than %s minutes: the watermark no "
            "longer waits for it (ExtractLateTransaction); the daily reconcile repairs what it writes",
            table.key,
            state.snapshot_xmin,
            late_since,
            table.late_commit_limit_minutes,
        )
    if hold is not None and hold < window.end:
        log.info("%s: watermark held at %s by open primary transaction(s)", table.key, hold)
        return hold
    return window.end


# PII classes a tombstone also covers in other users' rows (kept in step with dataacuity.rtbf).
TOMBSTONED_PII_CLASSES = ("email", "phone", "id_number")


def _erasure_indexes(table: Table, present: Collection[str]) -> list[tuple[str, str]]:
    """(index name, column): the right-to-be-forgotten cascade deletes a user's rows by their user
    column and blanks other users' columns naming them (email / phone / SA ID, and the user
    references present in the table: a payment to them as a merchant) by index, not scan."""
    columns = [table.user_column] if table.user_column else []
    columns += [c for c, cls in table.pii.items() if cls in TOMBSTONED_PII_CLASSES]
    columns += [c for c in table.user_references if c in present]
    return [(f"{table.raw_table[:40]}__rtbf_{i}", column) for i, column in enumerate(columns)]


def _drop_forgotten(
    warehouse: psycopg.Connection, table: Table, target, predicate: sql.Composable, present: Collection[str]
) -> int:
    """Right to be forgotten (DESIGN §3): drop the batch's rows of tombstoned users and blank the
    columns that name a tombstoned user (their email / phone / SA ID, or their id in a user
    reference column of the batch's `present` columns), before anything merges into raw.
    A replay, backfill or re-extract of rows the app still holds therefore never lands them again.
    Returns the rows dropped. A no-op (one cheap query) while no tombstone exists."""
    columns = [(c, cls) for c, cls in table.pii.items() if cls in TOMBSTONED_PII_CLASSES]
    columns += [(c, "user") for c in table.user_references if c in present]
    if not (table.user_column or columns):
        return 0
    if not warehouse.execute("SELECT compliance.rtbf_has_tombstones()").fetchone()[0]:
        return 0
    dropped = 0
    if table.user_column:
        dropped = warehouse.execute(
            compose(
                "extract/drop_forgotten_users.sql",
                target=target,
                predicate=predicate,
                user_column=sql.Identifier(table.user_column),
            )
        ).rowcount
    for column, pii_class in columns:
        warehouse.execute(
            compose(
                "extract/redact_forgotten_values.sql",
                target=target,
                predicate=predicate,
                column=sql.Identifier(column),
                kind=sql.Literal(pii_class),
            )
        )
    if dropped:
        log.info("%s: %d row(s) of forgotten users dropped on the way in (tombstones)", table.key, dropped)
    return dropped


def _drop_superseded_by_forgotten(warehouse: psycopg.Connection, table: Table, plan: _Plan) -> int:
    """Raw's copies of the batch's rows that now belong to a tombstoned user (the app moved a row to
    them after the cascade): _drop_forgotten drops the new version from the stage, so without this
    raw would keep the old one under its previous owner. Returns the raw rows deleted."""
    if not table.user_column or not warehouse.execute("SELECT compliance.rtbf_has_tombstones()").fetchone()[0]:
        return 0
    deleted = warehouse.execute(
        compose(
            "extract/drop_forgotten_superseded.sql",
            raw=plan.raw,
            stage=plan.stage,
            key_match=plan.key_match,
            user_column=sql.Identifier(table.user_column),
        )
    ).rowcount
    if deleted:
        log.info("%s: %d raw row(s) the app has since given to forgotten users deleted", table.key, deleted)
    return deleted


def _stream(source, warehouse, copy_out, copy_in) -> int:
    with source.cursor() as out_cursor, warehouse.cursor() as in_cursor:
        with out_cursor.copy(copy_out) as reader, in_cursor.copy(copy_in) as writer:
            buffer = bytearray()
            for data in reader:
                buffer += data
                if len(buffer) >= COPY_FLUSH_BYTES:
                    writer.write(buffer)
                    buffer = bytearray()
            if buffer:
                writer.write(buffer)
        return in_cursor.rowcount


def _merge(
    warehouse: psycopg.Connection,
    plan: _Plan,
    table: Table,
    result: BatchResult,
    mirror: sql.Composable | None = None,
) -> None:
    parts = {"raw": plan.raw, "stage": plan.stage, "key_match": plan.key_match}
    warehouse.execute(sql.SQL("ANALYZE {}").format(plan.stage))
    if mirror is not None:
        result.rows_deleted = warehouse.execute(
            compose("extract/range_delete_missing.sql", where=mirror, **parts)
        ).rowcount
    elif table.is_snapshot:
        result.rows_deleted = warehouse.execute(compose("extract/snapshot_delete_missing.sql", **parts)).rowcount
    warehouse.execute(
        compose(
            "extract/stage_drop_unchanged.sql",
            raw_values=plan.raw_values,
            stage_values=plan.stage_values,
            **parts,
        )
    )
    result.rows_updated = warehouse.execute(
        compose("extract/merge_update.sql", assignments=plan.assignments, **parts)
    ).rowcount
    result.rows_inserted = warehouse.execute(
        compose(
            "extract/merge_insert.sql",
            columns=plan.column_list,
            stage_columns=plan.stage_column_list,
            **parts,
        )
    ).rowcount


def _batch_row(result: BatchResult, status: str, error: str | None, started_at: datetime) -> dict:
    return {
        "batch_id": result.batch_id,
        "source_db": result.source_db,
        "table_name": result.table_name,
        "mode": result.mode,
        "window_start": result.window_start,
        "window_end": result.window_end,
        "rows_read": result.rows_read,
        "rows_inserted": result.rows_inserted,
        "rows_updated": result.rows_updated,
        "rows_deleted": result.rows_deleted,
        "duration_ms": int(result.duration_s * 1000),
        "replica_lag_s": result.replica_lag_s,
        "status": status,
        "error": error,
        "started_at": started_at,
    }


def record_failure(connect_warehouse, table: Table, error: BaseException) -> None:
    """Best effort: a failed batch row, so the batch log shows the failure and its reason."""
    try:
        with connect_warehouse() as warehouse, _writer_transaction(warehouse, table):
            now = warehouse.execute("SELECT now()").fetchone()[0]
            failed = BatchResult(str(uuid.uuid4()), table.source_db, table.name, table.mode, None, None)
            warehouse.execute(
                query("extract/log_batch.sql"),
                _batch_row(failed, "failed", str(error)[:2000], now),
            )
    except Exception as secondary:
        log.error("%s: could not record the failed batch: %s", table.key, secondary)
