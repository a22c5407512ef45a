"""Loading the sources: apply their schemas and COPY the generated rows (idempotent)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from dataacuity.paths import REPO_ROOT
from tools.seed.apps import generate_database, make_world
from tools.seed.ddl import SOURCE_SQL_DIR, source_ddl_columns
from tools.seed.world import TableRows

log = logging.getLogger("tools.seed")

DsnForDb = Callable[[str], str]


def adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


def apply_source_schemas(dsn_for_db: DsnForDb, registry, *, grant_to: Iterable[str] = ()) -> None:
    """Run include/sql/sources/<db>.sql in each registry source database (as a superuser).

    ``grant_to``: roles that get SELECT/INSERT/UPDATE/DELETE on the tables and USAGE on the
    sequences of each database's public schema (e.g. the synthetic-traffic writer role).
    """
    roles = tuple(grant_to)
    for source in registry.sources:
        ddl_path = SOURCE_SQL_DIR / f"{source.name}.sql"
        if not ddl_path.exists():
            raise FileNotFoundError(f"no DDL for source {source.name}: {ddl_path}")
        ddl = ddl_path.read_text(encoding="utf-8")
        with psycopg.connect(dsn_for_db(source.name), autocommit=True) as conn:
            conn.execute(ddl)
            for role in roles:
                conn.execute(
                    sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                        sql.Identifier(role)
                    )
                )
                conn.execute(
                    sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(role))
                )
        log.info("applied %s", ddl_path.relative_to(REPO_ROOT))


def _has_rows(conn: psycopg.Connection, table: str) -> bool:
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
    return bool(conn.execute(query).fetchone()[0])


def _reset_identity_sequences(conn: psycopg.Connection, table: str) -> None:
    identity_columns = conn.execute(
        "SELECT a.attname FROM pg_attribute a"
        " WHERE a.attrelid = to_regclass(%s) AND a.attidentity <> '' AND NOT a.attisdropped",
        (sql.Identifier(table).as_string(conn),),
    ).fetchall()
    for (column,) in identity_columns:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({table_literal}, {column_literal}),"
                " COALESCE(max({column}), 0) + 1, false) FROM {table}"
            ).format(
                table_literal=sql.Literal(sql.Identifier(table).as_string(conn)),
                column_literal=sql.Literal(column),
                column=sql.Identifier(column),
                table=sql.Identifier(table),
            )
        )


def _copy_rows(conn: psycopg.Connection, table: str, data: TableRows) -> None:
    if not data.rows:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, data.columns))
    )
    json_positions = [i for i, value in enumerate(data.rows[0]) if isinstance(value, dict)]
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        for row in data.rows:
            if json_positions:
                row = list(row)
                for position in json_positions:
                    row[position] = Jsonb(row[position])
            copy.write_row(row)


def _count_rows(conn: psycopg.Connection, tables: Iterable[str]) -> dict[str, int]:
    return {
        table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
        for table in tables
    }


def _check_against_ddl(source_db: str, data: dict[str, TableRows]) -> None:
    declared = source_ddl_columns(source_db)
    for table, rows in data.items():
        if rows.rows and set(rows.columns) != set(declared.get(table, ())):
            raise RuntimeError(
                f"generator for {source_db}.{table} is out of step with "
                f"include/sql/sources/{source_db}.sql: generates {sorted(rows.columns)}, "
                f"DDL declares {sorted(declared.get(table, ()))}"
            )


def seed(
    dsn_for_db: DsnForDb,
    registry,
    scale: int = 1,
    seed: int = 42,
    *,
    reset: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Load synthetic rows into every registry source database; returns rows per 'db.table'.

    A database whose registry tables already hold rows is skipped (its counts are still
    reported) unless ``reset`` is true, in which case its tables are truncated and reloaded.
    Each database loads in one transaction.
    """
    started = time.monotonic()
    world = make_world(scale, seed, now)
    counts: dict[str, int] = {}
    for source in registry.sources:
        registry_tables = [table.name for table in source.tables]
        with psycopg.connect(dsn_for_db(source.name)) as conn:
            already_seeded = any(_has_rows(conn, table) for table in registry_tables)
            if already_seeded and not reset:
                log.info("%s already has rows: left as it is", source.name)
            else:
                data = generate_database(world, source.name)
                _check_against_ddl(source.name, data)
                missing = [table for table in registry_tables if table not in data]
                if missing:
                    log.warning("no generator for %s tables %s: left empty", source.name, missing)
                with conn.transaction():
                    if already_seeded:
                        conn.execute(
                            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                                sql.SQL(", ").join(map(sql.Identifier, data))
                            )
                        )
                    for table, rows in data.items():
                        _copy_rows(conn, table, rows)
                        _reset_identity_sequences(conn, table)
                conn.execute("ANALYZE")
            for table, count in _count_rows(conn, registry_tables).items():
                counts[f"{source.name}.{table}"] = count
    log.info(
        "seeded %d tables, %d rows in %.1fs",
        len(counts),
        sum(counts.values()),
        time.monotonic() - started,
    )
    return counts
