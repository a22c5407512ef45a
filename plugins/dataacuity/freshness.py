"""Source freshness (runbook 1.6, §10.1): lag per raw table, and the SourceStale alerts it implies.

lag = now - newest event time in raw (the table's `event_time`, else its cursor; snapshot tables
without either use `_extracted_at`). P2 when lag > 2x the table's expected interval, P1 when > 4x.
While a table is stale its alerts are re-sent on every run; when it is fresh again they resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql

from dataacuity.alerting import Alert
from dataacuity.registry import Registry, Table
from dataacuity.sqlfiles import compose, query

P2_FACTOR = 2
P1_FACTOR = 4


@dataclass(frozen=True)
class TableFreshness:
    table: Table
    newest_event_at: datetime | None
    last_success_at: datetime | None
    measured_at: datetime

    @property
    def lag(self) -> timedelta | None:
        """None when raw holds no event at all (never extracted, or empty)."""
        return None if self.newest_event_at is None else self.measured_at - self.newest_event_at

    @property
    def since_last_extract(self) -> timedelta | None:
        return None if self.last_success_at is None else self.measured_at - self.last_success_at

    @property
    def expected_interval(self) -> timedelta:
        return timedelta(minutes=self.table.expected_interval_minutes)

    @property
    def severity(self) -> str | None:
        """'P1', 'P2' or None (fresh). A table with no event in raw is P1 while no extract of it has
        ever succeeded, and fresh once one has (an empty source table is not stale)."""
        if self.lag is None:
            return "P1" if self.last_success_at is None else None
        if self.lag > P1_FACTOR * self.expected_interval:
            return "P1"
        if self.lag > P2_FACTOR * self.expected_interval:
            return "P2"
        return None


def measure(conn, registry: Registry) -> list[TableFreshness]:
    """Freshness of every registry table, read through `conn` (role pipeline_monitor)."""
    results = []
    existing = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'raw'").fetchall()}
    for table in registry.tables():
        params = {"source_db": table.source_db, "table_name": table.name}
        if table.raw_table in existing:
            column = table.freshness_column or "_extracted_at"
            statement = compose(
                "freshness/table_lag.sql",
                raw=sql.Identifier(*table.qualified_raw),
                event_time=sql.Identifier(column),
            )
        else:
            statement = query("freshness/last_extract.sql")
        newest, last_success, measured_at = conn.execute(statement, params).fetchone()
        results.append(TableFreshness(table, newest, last_success, measured_at))
    conn.rollback()
    return results


def _minutes(delta: timedelta | None) -> str:
    return "never" if delta is None else f"{delta.total_seconds() / 60:.1f} min"


def stale_alerts(freshness: TableFreshness, generator_url: str = "") -> list[Alert]:
    """The SourceStale alerts for one table: P2 when > 2x, P2 and P1 when > 4x (the P1 inhibits
    the P2 of the same table in Alertmanager). Both severities, for resolving when fresh."""
    table = freshness.table
    figures = (
        f"lag {_minutes(freshness.lag)} (newest {table.freshness_column or '_extracted_at'} "
        f"{freshness.newest_event_at}), expected every {table.expected_interval_minutes} min; "
        f"last successful extract {_minutes(freshness.since_last_extract)} ago"
    )
    alerts = []
    for severity, factor in (("P2", P2_FACTOR), ("P1", P1_FACTOR)):
        alerts.append(
            Alert(
                labels={
                    "alertname": "SourceStale",
                    "severity": severity,
                    "source_db": table.source_db,
                    "table": table.name,
                },
                annotations={
                    "summary": f"raw.{table.raw_table} is stale (> {factor}x its expected interval)",
                    "description": figures,
                    "lag_minutes": _minutes(freshness.lag),
                    "expected_interval_minutes": str(table.expected_interval_minutes),
                },
                generator_url=generator_url,
            )
        )
    return alerts


def split_alerts(results: list[TableFreshness], generator_url: str = "") -> tuple[list[Alert], list[Alert]]:
    """(alerts to fire, alerts to resolve) for this run."""
    firing, resolving = [], []
    for freshness in results:
        p2, p1 = stale_alerts(freshness, generator_url)
        severity = freshness.severity
        if severity is None:
            resolving += [p2, p1]
        elif severity == "P2":
            firing.append(p2)
            resolving.append(p1)
        else:
            firing += [p2, p1]
    return firing, resolving


def report(results: list[TableFreshness]) -> str:
    lines = [f"{'table':<40} {'lag':>12} {'expected':>9} {'since extract':>14}  state"]
    for f in sorted(results, key=lambda r: r.table.key):
        lines.append(
            f"{f.table.key:<40} {_minutes(f.lag):>12} {f.table.expected_interval_minutes:>5} min "
            f"{_minutes(f.since_last_extract):>14}  {f.severity or 'fresh'}"
        )
    return "\n".join(lines)
