"""Source freshness (runbook 1.6, §10.1): is the PIPELINE behind, or did the SOURCE go quiet?

Two different questions, two different alerts (issue 10 §3: no false pages):

- **Pipeline behind** -> ``SourceStale``: time since the table's last successful extract, plus the
  replica lag that extract saw. P2 when > 2x the table's expected interval, P1 when > 4x (or never
  extracted). This is the pipeline's own failure and it pages.
- **Source quiet** -> ``SourceQuiet`` P2 (a volume anomaly, a ticket): the extracts run on time but
  bring no new rows. Raised only for EVENT tables, only while the pipeline is not behind, and only
  during the hours the registry declares the source active (``active_hours``). A quiet dimension or
  static reference table never raises anything.

Everything is read from the batch log ``etl.extract_batch`` with two index probes per table
(include/sql/freshness/extract_progress.sql): no scan of raw every 5 minutes, and nothing that
pipeline_monitor would need personal data for (it cannot read raw at all).
While a condition holds its alert is re-sent on every run; when it clears the alert is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dataacuity.alerting import Alert
from dataacuity.registry import Registry, Table
from dataacuity.sqlfiles import query

P2_FACTOR = 2
P1_FACTOR = 4
STALE = "SourceStale"
QUIET = "SourceQuiet"


@dataclass(frozen=True)
class TableFreshness:
    table: Table
    last_success_at: datetime | None
    replica_lag_s: float | None
    last_rows_at: datetime | None
    measured_at: datetime

    @property
    def behind(self) -> timedelta | None:
        """How far the warehouse is behind the source: since the last successful extract, plus the
        replica lag that extract saw. None when the table was never extracted."""
        if self.last_success_at is None:
            return None
        return self.measured_at - self.last_success_at + timedelta(seconds=self.replica_lag_s or 0)

    @property
    def quiet_for(self) -> timedelta | None:
        """Since the last batch that brought new rows (None: never any)."""
        return None if self.last_rows_at is None else self.measured_at - self.last_rows_at

    @property
    def expected_interval(self) -> timedelta:
        return timedelta(minutes=self.table.expected_interval_minutes)

    @property
    def severity(self) -> str | None:
        """SourceStale severity: 'P1', 'P2' or None (the pipeline keeps up)."""
        if self.behind is None or self.behind > P1_FACTOR * self.expected_interval:
            return "P1"
        if self.behind > P2_FACTOR * self.expected_interval:
            return "P2"
        return None

    @property
    def quiet(self) -> bool:
        """An event source with no new rows for > 2x its interval during its active hours, while the
        pipeline itself is on time. Dimensions and reference tables are never 'quiet'."""
        if self.table.kind != "event" or self.severity is not None:
            return False
        if not self.table.is_active_at(self.measured_at):
            return False
        return self.quiet_for is None or self.quiet_for > P2_FACTOR * self.expected_interval


def measure(conn, registry: Registry) -> list[TableFreshness]:
    """Freshness of every registry table, read through `conn` (role pipeline_monitor)."""
    tables = list(registry.tables())
    rows = conn.execute(
        query("freshness/extract_progress.sql"),
        {"source_dbs": [t.source_db for t in tables], "table_names": [t.name for t in tables]},
    ).fetchall()
    by_key = {(row[0], row[1]): row[2:] for row in rows}
    return [TableFreshness(table, *by_key[(table.source_db, table.name)]) for table in tables]


def _minutes(delta: timedelta | None) -> str:
    return "never" if delta is None else f"{delta.total_seconds() / 60:.1f} min"


def _labels(alertname: str, severity: str, table: Table) -> dict[str, str]:
    return {"alertname": alertname, "severity": severity, "source_db": table.source_db, "table": table.name}


def stale_alerts(freshness: TableFreshness, generator_url: str = "") -> list[Alert]:
    """The SourceStale alerts for one table: P2 when > 2x, P2 and P1 when > 4x (the P1 inhibits
    the P2 of the same table in Alertmanager). Both severities, for resolving when fresh."""
    table = freshness.table
    figures = (
        f"last successful extract {_minutes(freshness.behind)} behind the source "
        f"(finished {freshness.last_success_at}, replica lag {freshness.replica_lag_s or 0:.0f} s), "
        f"expected every {table.expected_interval_minutes} min"
    )
    return [
        Alert(
            labels=_labels(STALE, severity, table),
            annotations={
                "summary": f"the pipeline is behind on raw.{table.raw_table} (> {factor}x its expected interval)",
                "description": figures,
                "lag_minutes": _minutes(freshness.behind),
                "expected_interval_minutes": str(table.expected_interval_minutes),
            },
            generator_url=generator_url,
        )
        for severity, factor in (("P2", P2_FACTOR), ("P1", P1_FACTOR))
    ]


def quiet_alert(freshness: TableFreshness, generator_url: str = "") -> Alert:
    """SourceQuiet P2: the extracts run, the source sends nothing (a volume anomaly, not our outage)."""
    table = freshness.table
    return Alert(
        labels=_labels(QUIET, "P2", table),
        annotations={
            "summary": f"{table.key} sent no new rows for {_minutes(freshness.quiet_for)} during its active hours",
            "description": (
                f"extracts are on time (last {_minutes(freshness.behind)} ago) but the last batch with new rows "
                f"finished {freshness.last_rows_at}; expected traffic every {table.expected_interval_minutes} min"
            ),
            "quiet_minutes": _minutes(freshness.quiet_for),
            "expected_interval_minutes": str(table.expected_interval_minutes),
        },
        generator_url=generator_url,
    )


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
        (firing if freshness.quiet else resolving).append(quiet_alert(freshness, generator_url))
    return firing, resolving


def report(results: list[TableFreshness]) -> str:
    lines = [f"{'table':<40} {'behind':>12} {'expected':>9} {'new rows':>14}  state"]
    for f in sorted(results, key=lambda r: r.table.key):
        state = f.severity or ("quiet" if f.quiet else "fresh")
        lines.append(
            f"{f.table.key:<40} {_minutes(f.behind):>12} {f.table.expected_interval_minutes:>5} min "
            f"{_minutes(f.quiet_for):>14}  {state}"
        )
    return "\n".join(lines)
