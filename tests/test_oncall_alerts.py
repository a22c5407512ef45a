"""The pipeline's own alerts end to end: real extract, real warehouse, real Alertmanager, webhook."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dataacuity.alert_callbacks import deadline_missed
from dataacuity.extract import extract_table
from dataacuity.monitoring import check_source_freshness
from dataacuity.registry import parse_registry
from tests.conftest import REPO, drop_lab_source, superuser_connect

LAB_DB = "freshness_lab"
_SAST_HOUR = datetime.now(ZoneInfo("Africa/Johannesburg")).hour
# night_orders: active for one hour that is never "now" (3 h ahead of South African time)
NIGHT_HOURS = f"{(_SAST_HOUR + 3) % 24:02d}:00-{(_SAST_HOUR + 4) % 24 or 24:02d}:00"
REGISTRY = parse_registry(
    f"""
sources:
  freshness_lab:
    app: lab
    tables:
      orders:
        kind: event
        mode: incremental
        cursor: updated_at
        event_time: created_at
        primary_key: [id]
        expected_interval_minutes: 5
        active_hours: "00:00-24:00"
      night_orders:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
        expected_interval_minutes: 5
        active_hours: "{NIGHT_HOURS}"
      quiet_orders:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
        expected_interval_minutes: 5
      countries:
        kind: dimension
        mode: snapshot
        primary_key: [id]
        expected_interval_minutes: 60
"""
)
TABLES = [t.name for t in REGISTRY.tables()]


@pytest.fixture
def am_env(alertmanager, topology, monkeypatch, webhook):
    """Route the pipeline's `alertmanager` connection to the test Alertmanager (with webhooks);
    each test starts with an empty webhook inbox."""
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    with webhook.cond:
        webhook.payloads.clear()
    return alertmanager


@pytest.fixture
def lab(topology):
    drop_lab_source(LAB_DB)
    with superuser_connect("primary", "postgres") as conn:
        conn.execute(f"CREATE DATABASE {LAB_DB}")
    with superuser_connect("primary", LAB_DB) as conn:
        for table in TABLES:
            conn.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, amount numeric(18,2),"
                " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())"
            )
        yield conn
    drop_lab_source(LAB_DB)


def add_rows(conn, minutes_ago: int, count: int = 3, table: str = "orders") -> None:
    conn.execute(
        f"INSERT INTO {table} (amount, created_at) SELECT 10, now() - make_interval(mins => %s)"
        " FROM generate_series(1, %s)",
        (minutes_ago, count),
    )


def extract(topology, tables=("orders",)) -> None:
    topology.wait_for_replica()
    for table in tables:
        extract_table(
            REGISTRY.table(LAB_DB, table),
            lambda: psycopg.connect(topology.dsn("replica", LAB_DB, "etl_reader")),
            lambda: psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user")),
        )


def pipeline_stopped(warehouse_su, minutes: int) -> None:
    """The extracts stopped `minutes` ago: every batch of the lab finished that much earlier."""
    warehouse_su.execute(
        "UPDATE etl.extract_batch SET finished_at = finished_at - make_interval(mins => %s) WHERE source_db = %s",
        (minutes, LAB_DB),
    )


def only_orders(result: dict) -> dict:
    return {k: v for k, v in result["stale"].items() if k == f"{LAB_DB}.orders"}


def test_pipeline_behind_tickets_p2_then_resolves_after_extract(topology, lab, warehouse_su, am_env, webhook):
    add_rows(lab, minutes_ago=0)
    extract(topology)
    pipeline_stopped(warehouse_su, minutes=12)
    add_rows(lab, minutes_ago=0)  # the primary keeps changing, but nobody extracts
    result = check_source_freshness(REGISTRY, generator_url="http://airflow.local/run/1")
    assert only_orders(result) == {f"{LAB_DB}.orders": "P2"}
    (ticket,) = webhook.wait("/ticket", alertname="SourceStale", source_db=LAB_DB, table="orders")
    assert ticket["labels"] == {
        "alertname": "SourceStale",
        "severity": "P2",
        "source_db": LAB_DB,
        "table": "orders",
    }
    assert ticket["annotations"]["expected_interval_minutes"] == "5"
    assert 11.5 < float(ticket["annotations"]["lag_minutes"].split()[0]) < 14
    assert ticket["annotations"]["runbook_url"].endswith("SourceStale.md")
    assert ticket["generatorURL"] == "http://airflow.local/run/1"
    assert not webhook.alerts("/pager", source_db=LAB_DB, table="orders")

    extract(topology)  # extraction resumes
    result = check_source_freshness(REGISTRY)
    assert only_orders(result) == {}
    (resolved,) = webhook.wait("/ticket", status="resolved", alertname="SourceStale", source_db=LAB_DB, table="orders")
    assert resolved["annotations"]["summary"] == ticket["annotations"]["summary"]


def test_pipeline_far_behind_pages_p1_and_its_p2_stays_quiet(topology, lab, warehouse_su, am_env, webhook, client):
    add_rows(lab, minutes_ago=0)
    extract(topology)
    pipeline_stopped(warehouse_su, minutes=25)
    result = check_source_freshness(REGISTRY)
    assert only_orders(result) == {f"{LAB_DB}.orders": "P1"}
    (page,) = webhook.wait("/pager", source_db=LAB_DB, table="orders")
    assert page["labels"]["severity"] == "P1"
    alerts = client.active_alerts({"source_db": LAB_DB, "table": "orders", "alertname": "SourceStale"})
    assert {a["labels"]["severity"]: a["status"]["state"] for a in alerts} == {"P1": "active", "P2": "suppressed"}
    assert not webhook.alerts("/ticket", source_db=LAB_DB, table="orders")
    extract(topology)
    check_source_freshness(REGISTRY)
    webhook.wait("/pager", status="resolved", source_db=LAB_DB, table="orders")


def test_a_quiet_source_never_pages_and_only_active_event_sources_ticket(
    topology, lab, warehouse_su, am_env, webhook, client
):
    """Extracts on time, no new rows for 3 hours: old events (hours ago) are not a pipeline problem.
    The dimension and the event tables outside (or without) active hours raise nothing; the event
    table inside its active hours raises SourceQuiet P2, which resolves when rows arrive again."""
    for table in TABLES:
        add_rows(lab, minutes_ago=200, table=table)
    extract(topology, TABLES)
    pipeline_stopped(warehouse_su, minutes=180)
    extract(topology, TABLES)  # on time again, and nothing new anywhere
    result = check_source_freshness(REGISTRY)
    assert {k: v for k, v in result["stale"].items() if k.startswith(LAB_DB)} == {}
    assert [k for k in result["quiet"] if k.startswith(LAB_DB)] == [f"{LAB_DB}.orders"]
    # in Alertmanager, routed to the ticket receiver (never the pager)
    (quiet,) = client.active_alerts({"alertname": "SourceQuiet", "source_db": LAB_DB})
    assert quiet["labels"] == {"alertname": "SourceQuiet", "severity": "P2", "source_db": LAB_DB, "table": "orders"}
    assert [r["name"] for r in quiet["receivers"]] == ["ticket"]
    assert quiet["annotations"]["runbook_url"].endswith("SourceQuiet.md")
    assert not webhook.alerts("/pager", "firing", source_db=LAB_DB)

    add_rows(lab, minutes_ago=0)
    extract(topology)
    result = check_source_freshness(REGISTRY)
    assert [k for k in result["quiet"] if k.startswith(LAB_DB)] == []
    assert client.active_alerts({"alertname": "SourceQuiet", "source_db": LAB_DB}) == []  # resolved
    assert not webhook.alerts("/pager", "firing", source_db=LAB_DB)


def test_freshness_reads_the_batch_log_through_its_indexes_not_raw(topology, lab, registry):
    """pipeline_monitor measures every registry table without touching raw (it may not read it),
    and each lookup is an index probe on etl.extract_batch."""
    from dataacuity import freshness
    from dataacuity.sqlfiles import query

    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor")) as conn:
        results = freshness.measure(conn, registry)
        assert len(results) == len(list(registry.tables()))
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "EXPLAIN " + query("freshness/extract_progress.sql"),
                {"source_dbs": ["ledger_db"], "table_names": ["transactions"]},
            ).fetchall()
        )
    assert "raw." not in plan
    assert "extract_batch_last_rows" in plan and "extract_batch_table_finished" in plan


@pytest.fixture(scope="module")
def deployed_dagbag():
    """The dags/ folder parsed as deployed: DATAACUITY_DEADLINES unset (the test session sets it
    "off" so dag.test() can run; production never sets it)."""
    import os

    from airflow.dag_processing.dagbag import DagBag

    from dataacuity.alert_callbacks import DEADLINES_ENV

    before = os.environ.pop(DEADLINES_ENV, None)
    try:
        bag = DagBag(dag_folder=str(REPO / "dags"))
    finally:
        if before is not None:
            os.environ[DEADLINES_ENV] = before
    assert bag.import_errors == {}
    return bag


def _dags_needing_deadlines(dagbag):
    return {dag_id: dag for dag_id, dag in dagbag.dags.items() if set(dag.tags) & {"extract", "transform"}}


def _deadlines(dag) -> list:
    if not dag.deadline:
        return []
    return dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]


def test_every_deployed_extract_and_transform_dag_pages_for_itself_on_a_missed_deadline(deployed_dagbag):
    from airflow.sdk import DeadlineReference

    dags = _dags_needing_deadlines(deployed_dagbag)
    assert "transform" in dags and any(d.startswith("extract__") for d in dags)
    for dag_id, dag in dags.items():
        (deadline,) = _deadlines(dag)  # exactly one, on the object the scheduler gets
        assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT, dag_id
        assert deadline.callback.path == "dataacuity.alert_callbacks.deadline_missed", dag_id
        assert deadline.callback.kwargs["dag_id"] == dag_id  # pages name the DAG that is late
        assert deadline.interval.total_seconds() == deadline.callback.kwargs["minutes"] * 60 > 0, dag_id


def _context(dag_id: str, state: str) -> dict:
    return {
        "dag_run": {"dag_id": dag_id, "dag_run_id": f"scheduled__{state}", "state": state},
        "deadline": {"id": "1", "deadline_time": datetime.now().isoformat()},
    }


def test_deadline_callback_ignores_runs_that_already_ended(deployed_dagbag, am_env, webhook, client):
    dags = sorted(_dags_needing_deadlines(deployed_dagbag).items())
    (ended_id, ended), (control_id, control) = dags[-1], dags[-2]
    for state in ("failed", "success"):
        asyncio.run(deadline_missed(context=_context(ended_id, state), **_deadlines(ended)[0].callback.kwargs))
    # Positive control through the same path, sent after: once its page is in, anything the ended
    # run had sent is in Alertmanager too (and would be listed by it).
    asyncio.run(deadline_missed(context=_context(control_id, "running"), **_deadlines(control)[0].callback.kwargs))
    webhook.wait("/pager", dag_id=control_id)
    assert client.active_alerts({"dag_id": ended_id}) == []
    assert webhook.alerts(dag_id=ended_id) == []


def test_deadline_callback_pages_p1_for_a_running_run(deployed_dagbag, am_env, webhook):
    for dag_id, dag in sorted(_dags_needing_deadlines(deployed_dagbag).items())[:3]:
        asyncio.run(deadline_missed(context=_context(dag_id, "running"), **_deadlines(dag)[0].callback.kwargs))
        (page,) = webhook.wait("/pager", dag_id=dag_id)
        assert page["labels"]["severity"] == "P1"
        assert page["labels"]["alertname"].endswith("DeadlineMissed")
        assert "running" in page["annotations"]["description"]


PROBE_DAG = """
from datetime import datetime

from airflow.sdk import DAG, task

from dataacuity.dag_defaults import default_args

with DAG("oncall_failure_probe", schedule=None, start_date=datetime(2026, 1, 1),
         default_args=default_args(retries=0)):

    @task
    def explode():
        raise ValueError("source table vanished")

    explode()
"""


def test_a_failing_task_raises_task_failed_with_its_log_url(am_env, webhook, airflow_db, tmp_path, monkeypatch):
    import json

    from airflow.dag_processing.dagbag import DagBag

    (tmp_path / "probe.py").write_text(PROBE_DAG)
    # dag.test() syncs the configured DAG bundle to the metadata DB: make the probe's folder that bundle.
    bundle = {"name": "probe", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle"}
    bundle["kwargs"] = {"path": str(tmp_path)}
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps([bundle]))
    dag = DagBag(dag_folder=str(tmp_path)).dags["oncall_failure_probe"]
    run = dag.test()
    assert run.state == "failed"
    (ticket,) = webhook.wait("/ticket", dag_id="oncall_failure_probe", task_id="explode")
    assert ticket["labels"]["alertname"] == "TaskFailed"
    assert "source table vanished" in ticket["annotations"]["description"]
    assert ticket["annotations"]["log_url"]
