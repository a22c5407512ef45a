"""`extract__ledger_db` under dag.test() against the seeded topology: rows land and match the replica."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dataacuity.extract.operators import is_due
from tests.conftest import REPO, superuser_connect


def replica_count(db: str, table: str, user_column: str | None = None) -> int:
    """Rows the extract must land: all of them but those of users forgotten (right to be
    forgotten: the extract drops tombstoned users' rows on the way in)."""
    with superuser_connect("replica", db) as conn:
        if not user_column:
            return conn.execute(f"SELECT count(*) FROM public.{table}").fetchone()[0]
        per_user = conn.execute(f"SELECT {user_column}::text, count(*) FROM public.{table} GROUP BY 1").fetchall()
    with superuser_connect("warehouse", "data_warehouse") as warehouse:
        forgotten = {
            row[0]
            for row in warehouse.execute(
                "SELECT compliance.rtbf_forgotten_among('user', %s)", ([u for u, _n in per_user if u is not None],)
            )
        }
    return sum(n for user, n in per_user if user not in forgotten)


def test_extract_ledger_db_dag_lands_every_table(seeded_sources, airflow_db, registry):
    from airflow.dag_processing.dagbag import DagBag

    tables = registry.source("ledger_db").tables
    # Start from nothing landed (other tests may have extracted ledger_db already): empty raw
    # tables and no watermarks, so every row counted below was landed by this run.
    with superuser_connect("warehouse", "data_warehouse") as warehouse:
        for table in tables:
            if warehouse.execute("SELECT to_regclass(%s)", (f"raw.{table.raw_table}",)).fetchone()[0]:
                warehouse.execute(f"TRUNCATE raw.{table.raw_table}")
        warehouse.execute("DELETE FROM etl.extract_watermark WHERE source_db = 'ledger_db'")
        run_started = warehouse.execute("SELECT clock_timestamp()").fetchone()[0]
    assert all(replica_count("ledger_db", table.name) > 0 for table in tables)

    dag = DagBag(dag_folder=str(REPO / "dags" / "extract.py")).dags["extract__ledger_db"]
    run = dag.test()
    assert run.state == "success"
    with superuser_connect("warehouse", "data_warehouse") as warehouse:
        for table in tables:
            landed = warehouse.execute(f"SELECT count(*) FROM raw.{table.raw_table}").fetchone()[0]
            assert landed == replica_count("ledger_db", table.name, table.user_column), table.key
        batched = warehouse.execute(
            "SELECT DISTINCT table_name FROM etl.extract_batch WHERE source_db = 'ledger_db' AND status = 'success'"
            " AND started_at >= %s",
            (run_started,),
        ).fetchall()
        assert {row[0] for row in batched} == {table.name for table in tables}


@pytest.mark.parametrize(
    ("minute", "due"),
    [(0, True), (5, False), (55, False)],
)
def test_hourly_dimension_runs_only_on_the_tick_of_its_hour(registry, minute, due):
    hourly = next(t for t in registry.tables() if t.schedule == "0 * * * *")
    logical_date = datetime(2026, 11, 23, 10, minute, tzinfo=UTC)
    assert is_due(hourly, "*/5 * * * *", logical_date) is due


def test_event_table_runs_on_every_tick(registry):
    event = next(t for t in registry.tables() if t.schedule == "*/5 * * * *")
    assert is_due(event, "*/5 * * * *", datetime(2026, 11, 23, 10, 35, tzinfo=UTC))
