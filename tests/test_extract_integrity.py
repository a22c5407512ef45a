"""Issue 12 against the real topology: late commits, schema drift without needless stops, and
reconciliation (throwaway source database `integrity_lab` on the primary, read from the standby)."""

from __future__ import annotations

import dataclasses
import time

import psycopg
import pytest
from psycopg import sql

from dataacuity.extract.core import SchemaDriftError, extract_table
from dataacuity.extract.operators import LATE_TRANSACTION_ALERT, late_transaction_alert
from dataacuity.reconcile import reconcile_table
from dataacuity.registry import parse_registry
from tests.alerting_support import poll
from tests.conftest import drop_lab_source, superuser_connect

LAB_DB = "integrity_lab"
REGISTRY = parse_registry(
    """
sources:
  integrity_lab:
    app: lab
    tables:
      events:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
      drift:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
      other:
        kind: dimension
        mode: snapshot
        primary_key: [code]
"""
)
TABLES = ("events", "drift", "other")


def lab_table(name: str, **changes):
    """A registry table; tests shrink minutes to seconds (fractions) so nothing waits for minutes."""
    return dataclasses.replace(REGISTRY.table(LAB_DB, name), **changes)


@pytest.fixture(scope="module")
def lab(topology):
    drop_lab_source(LAB_DB)
    with superuser_connect("primary", "postgres") as conn:
        conn.execute(f"CREATE DATABASE {LAB_DB}")
    yield topology
    drop_lab_source(LAB_DB)


@pytest.fixture
def primary(lab, warehouse_su):
    """Empty lab: no source tables, no raw tables, no bookkeeping."""
    with superuser_connect("primary", LAB_DB) as conn:
        conn.execute("DROP TABLE IF EXISTS events, drift, other CASCADE")
        for name in TABLES:
            warehouse_su.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier("raw", f"{LAB_DB}__{name}")))
        for bookkeeping in ("extract_watermark", "extract_open_xact", "extract_batch"):
            warehouse_su.execute(
                sql.SQL("DELETE FROM {} WHERE source_db = %s").format(sql.Identifier("etl", bookkeeping)), (LAB_DB,)
            )
        conn.execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, note text, updated_at timestamptz NOT NULL DEFAULT now())"
        )
        yield conn


def extract(lab, table):
    lab.wait_for_replica()
    return extract_table(
        table,
        lambda: psycopg.connect(lab.dsn("replica", LAB_DB, "etl_reader")),
        lambda: psycopg.connect(lab.dsn("warehouse", "data_warehouse", "etl_user")),
    )


def insert(conn, first: int, count: int = 1, note: str = "row", age: str = "0 seconds") -> None:
    conn.execute(
        "INSERT INTO events (id, note, updated_at) SELECT g, %s || g, now() - %s::interval"
        " FROM generate_series(%s::bigint, %s::bigint) g",
        (note, age, first, first + count - 1),
    )


def raw_notes(warehouse_su) -> dict[int, str]:
    return dict(warehouse_su.execute(f"SELECT id, note FROM raw.{LAB_DB}__events").fetchall())


# ------------------------------------------------------------------------------ late commits


def test_transaction_open_for_twice_the_lookback_lands_on_the_first_extract_after_commit(lab, primary, warehouse_su):
    table = lab_table("events", lookback_minutes=3 / 60)  # a 3-second look-back
    insert(primary, 1, 10)
    extract(lab, table)
    with superuser_connect("primary", LAB_DB) as slow:
        slow.autocommit = False
        slow.execute("INSERT INTO events (id, note, updated_at) VALUES (1000, 'slow', now())")  # cursor = its start
        opened = time.monotonic()
        insert(primary, 11)  # commits after it (and ships its WAL to the standby)
        extract(lab, table)
        while time.monotonic() - opened < 2 * 3 + 1:  # open for more than twice the look-back...
            time.sleep(1)
            insert(primary, 12 + int(time.monotonic() - opened))
            extract(lab, table)  # ...while extracts keep running past its cursor value
        assert 1000 not in raw_notes(warehouse_su)
        held = warehouse_su.execute(
            "SELECT count(*) FROM etl.extract_open_xact WHERE source_db = %s AND table_name = 'events'", (LAB_DB,)
        ).fetchone()[0]
        assert held >= 1
        slow.commit()
    summary = extract(lab, table)  # the first extract after the commit
    assert raw_notes(warehouse_su)[1000] == "slow"
    assert summary.late_xids == []


def test_transaction_open_beyond_the_hard_limit_pages_p2(lab, primary, warehouse_su, am_env, client):
    table = lab_table("events", lookback_minutes=0, late_commit_limit_minutes=2 / 60)  # 2-second limit
    insert(primary, 1, 3)
    extract(lab, table)
    with superuser_connect("primary", LAB_DB) as slow:
        slow.autocommit = False
        slow.execute("INSERT INTO events (id, note) VALUES (2000, 'stuck')")
        insert(primary, 4)
        assert extract(lab, table).late_xids == []  # first seen: held, not yet late
        time.sleep(3)
        insert(primary, 5)
        summary = extract(lab, table)
        assert summary.late_xids, "a transaction open past the limit must be reported"
        from dataacuity.alerting import notify

        assert notify([late_transaction_alert(table, summary)]) == "sent"
        slow.rollback()
    alerts = poll(
        lambda: client.active_alerts({"alertname": LATE_TRANSACTION_ALERT, "table": "events"}), what="P2 stored"
    )
    assert alerts[0]["labels"] == {
        "alertname": LATE_TRANSACTION_ALERT,
        "severity": "P2",
        "source_db": LAB_DB,
        "table": "events",
    }


@pytest.fixture
def am_env(alertmanager, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    return alertmanager


# ------------------------------------------------------------------------------ schema drift


def test_drift_lossless_widening_absorbed_default_backfilled_lossy_stops_only_that_table(lab, primary, warehouse_su):
    primary.execute(
        "CREATE TABLE drift (id bigint PRIMARY KEY, price numeric(9,6), label varchar(10), n integer,"
        " updated_at timestamptz NOT NULL DEFAULT now() - interval '1 hour')"
    )
    primary.execute("INSERT INTO drift (id, price, label, n) VALUES (1, 123.456789, 'short', 7), (2, -0.5, 'x', 8)")
    extract(lab, lab_table("drift"))
    # Lossless changes: numeric(9,6) -> numeric(12,8), varchar(10) -> text, integer -> bigint;
    # a new column with a default (existing rows read it without their cursor moving).
    primary.execute(
        "ALTER TABLE drift ALTER COLUMN price TYPE numeric(12,8), ALTER COLUMN label TYPE text,"
        " ALTER COLUMN n TYPE bigint, ADD COLUMN tier text NOT NULL DEFAULT 'standard'"
    )
    primary.execute(
        "INSERT INTO drift (id, price, label, n, tier, updated_at)"
        " VALUES (3, 1234.12345678, repeat('y', 40), 9, 'gold', now())"
    )
    summary = extract(lab, lab_table("drift"))
    assert summary.batches[0].columns_added == ["tier"]
    types = dict(
        warehouse_su.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'raw.integrity_lab__drift'::regclass AND attnum > 0"
        ).fetchall()
    )
    assert (types["price"], types["label"], types["n"]) == ("numeric(12,8)", "text", "bigint")
    rows = warehouse_su.execute("SELECT id, price::text, tier FROM raw.integrity_lab__drift ORDER BY id").fetchall()
    assert rows == [(1, "123.45678900", "standard"), (2, "-0.50000000", "standard"), (3, "1234.12345678", "gold")]
    # A lossy change (fewer decimals) stops this table with the clear error...
    primary.execute("ALTER TABLE drift ALTER COLUMN price TYPE numeric(12,2)")
    with pytest.raises(SchemaDriftError, match=r"column 'price' changed type.*numeric\(12,8\) to numeric\(12,2\)"):
        extract(lab, lab_table("drift"))
    # ...and only this table.
    insert(primary, 1, 2)
    assert extract(lab, lab_table("events")).rows_inserted == 2


# ------------------------------------------------------------------------------ reconciliation


def reconcile(lab, table):
    lab.wait_for_replica()
    return reconcile_table(
        table,
        lambda: psycopg.connect(lab.dsn("replica", LAB_DB, "etl_reader")),
        lambda: psycopg.connect(lab.dsn("warehouse", "data_warehouse", "etl_user")),
    )


def test_reconcile_repairs_a_row_deleted_from_raw_and_a_cursor_set_backwards(lab, primary, warehouse_su):
    table = lab_table("events")
    insert(primary, 1, 25_000, age="2 hours")
    extract(lab, table)
    clean = reconcile(lab, table)
    assert (clean.replica_rows, clean.raw_rows, clean.repaired, clean.persisting) == (25_000, 25_000, [], [])
    assert clean.buckets == 3  # key ranges of 10 000 ids
    # Lost from raw; and changed at source with its cursor set back before the watermark
    # (no cursor window can ever see that change).
    warehouse_su.execute(f"DELETE FROM raw.{LAB_DB}__events WHERE id = 12345")
    primary.execute("UPDATE events SET note = 'backdated', updated_at = updated_at - interval '1 day' WHERE id = 777")
    assert extract(lab, table).rows_updated == 0
    outcome = reconcile(lab, table)
    assert sorted(outcome.repaired) == ["0", "1"] and outcome.persisting == []
    notes = raw_notes(warehouse_su)
    assert notes[12345] == "row12345" and notes[777] == "backdated"
    assert len(notes) == 25_000
    recorded = warehouse_su.execute(
        "SELECT bucket, status FROM etl.reconcile_result WHERE source_db = %s ORDER BY checked_at DESC, bucket LIMIT 2",
        (LAB_DB,),
    ).fetchall()
    assert sorted(recorded) == [("0", "repaired"), ("1", "repaired")]
    assert reconcile(lab, table).repaired == []  # and now it agrees


def test_reconcile_reports_p2_when_a_range_still_differs_after_repair(lab, primary, warehouse_su, am_env, client):
    """A fault reconciliation cannot repair (a trigger on raw rewrites one row on every write):
    the range is reported as persisting and ReconcileMismatch (P2) reaches Alertmanager."""
    from dataacuity.alerting import notify
    from dataacuity.reconcile import ALERTNAME, reconcile_source

    insert(primary, 1, 50, age="2 hours")
    extract(lab, lab_table("events"))
    warehouse_su.execute(
        "CREATE FUNCTION pg_temp.corrupt() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN IF NEW.id = 7 THEN NEW.note := 'corrupted'; END IF; RETURN NEW; END $$"
    )
    warehouse_su.execute(
        f"CREATE TRIGGER corrupt BEFORE INSERT OR UPDATE ON raw.{LAB_DB}__events"
        " FOR EACH ROW EXECUTE FUNCTION pg_temp.corrupt()"
    )
    warehouse_su.execute(f"UPDATE raw.{LAB_DB}__events SET note = note WHERE id = 7")
    try:
        lab.wait_for_replica()
        (outcome,) = [
            o
            for o in reconcile_source(
                parse_registry(
                    f"sources: {{{LAB_DB}: {{app: lab, tables: "
                    "{events: {kind: event, mode: incremental, cursor: updated_at, primary_key: [id]}}}}"
                ),
                LAB_DB,
                lambda: psycopg.connect(lab.dsn("replica", LAB_DB, "etl_reader")),
                lambda: psycopg.connect(lab.dsn("warehouse", "data_warehouse", "etl_user")),
                notify=notify,
            )
            if o.table_name == "events"
        ]
    finally:
        warehouse_su.execute(f"DROP TRIGGER corrupt ON raw.{LAB_DB}__events")
    assert outcome.persisting == ["0"]
    alerts = poll(lambda: client.active_alerts({"alertname": ALERTNAME, "source_db": LAB_DB}), what="P2 stored")
    assert alerts[0]["labels"]["severity"] == "P2" and alerts[0]["labels"]["table"] == "events"


def test_reconcile_of_an_event_table_without_integer_key_works_per_day(lab, primary, warehouse_su):
    primary.execute(
        "CREATE TABLE drift (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), note text,"
        " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now() - interval '1 hour')"
    )
    primary.execute(
        "INSERT INTO drift (note, created_at) SELECT 'n' || g, timestamptz '2026-11-01 12:00+00' + g * interval '1 day'"
        " FROM generate_series(0, 4) g"
    )
    table = dataclasses.replace(lab_table("drift"), event_time="created_at")
    extract(lab, table)
    warehouse_su.execute(f"DELETE FROM raw.{LAB_DB}__drift WHERE note = 'n2'")
    outcome = reconcile(lab, table)
    assert outcome.buckets == 5 and outcome.repaired == ["2026-11-03"] and outcome.persisting == []
    assert warehouse_su.execute(f"SELECT count(*) FROM raw.{LAB_DB}__drift").fetchone()[0] == 5


def test_reconcile_dag_task_reconciles_a_source_through_the_airflow_connections(seeded_sources, registry):
    """dags/reconcile.py's task for ledger_db, called as the worker calls it (Airflow connections,
    kill-switch guard): every table of the source compared, nothing left differing."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO
    from tools.pipeline import extract_all

    extract_all(sources=["ledger_db"])
    dag = DagBag(dag_folder=str(REPO / "dags" / "reconcile.py")).dags["reconcile"]
    assert {t.task_id for t in dag.tasks} == set(registry.source_names)
    task = dag.get_task("ledger_db")
    outcomes = task.python_callable(*task.op_args, **task.op_kwargs)
    assert {o["table_name"] for o in outcomes} == set(registry.source("ledger_db").table_names)
    assert all(o["persisting"] == [] and o["error"] is None for o in outcomes)
    # (rows of users forgotten by an earlier RTBF test that the app still holds never land in raw)
    assert all(o["replica_rows"] == o["raw_rows"] + o["withheld_rows"] and o["raw_rows"] > 0 for o in outcomes)
