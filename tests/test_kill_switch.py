"""The warehouse kill switch against the real topology: the database refuses the writes, write
tasks refuse to start with the reason, the page reaches the pager and inhibits staleness, the
compliance log records who/when/why, and after release the next extract lands everything held.

Every test leaves the switch released (the `released` fixture restores it with superuser SQL even
if release() itself is broken) and KillSwitchEngaged resolved in the shared test Alertmanager.
"""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from psycopg import errors

from dataacuity import kill_switch as ks
from dataacuity.alerting import OUTBOX_TABLE, Alert, AlertmanagerClient, drain_outbox
from dataacuity.extract import extract_table
from dataacuity.registry import parse_registry
from tests.alerting_support import poll
from tests.conftest import REPO, drop_lab_source, superuser_connect

LAB_DB = "kill_switch_lab"
RAW = f"raw.{LAB_DB}__events"
TABLE = parse_registry(
    f"""
sources:
  {LAB_DB}:
    app: lab
    tables:
      events:
        kind: event
        mode: incremental
        cursor: updated_at
        primary_key: [id]
"""
).table(LAB_DB, "events")
ENGAGE_CONF = {"action": "engage", "confirm": ks.CONFIRMATIONS["engage"]}
RELEASE_CONF = {"action": "release", "confirm": ks.CONFIRMATIONS["release"]}


# ---------------------------------------------------------------------------------------------
# fixtures and helpers


def connector(topology, cluster: str, db: str, role: str):
    return lambda: psycopg.connect(topology.dsn(cluster, db, role))


@pytest.fixture
def conns(topology):
    """Zero-argument connectors as the kill switch gets them in production."""
    return {
        "connect_admin": connector(topology, "warehouse", "data_warehouse", "warehouse_admin"),
        "connect_compliance": connector(topology, "compliance", "compliance", "compliance_admin"),
        "connect_monitor": connector(topology, "warehouse", "data_warehouse", "pipeline_monitor"),
    }


def _force_release(client: AlertmanagerClient | None) -> None:
    with superuser_connect("warehouse", "data_warehouse") as su:
        su.execute("GRANT etl_writer TO etl_user")
        su.execute("GRANT dbt_writer TO dbt_runner")
        su.execute(
            "UPDATE ops.kill_switch SET engaged = false, changed_at = now(), changed_by = 'tests', "
            "reason = 'test teardown: writes allowed' WHERE engaged"
        )
    if client is not None:
        was_firing = bool(client.active_alerts(dict(ks.ALERT_LABELS)))
        client.resolve([Alert(labels=dict(ks.ALERT_LABELS), annotations={"summary": "kill switch test teardown"})])
        if not was_firing:
            return
        # Let Alertmanager flush the resolved notification (group_interval 1 s locally): otherwise its
        # notification log still holds "firing" and the next test's identical page is deduplicated.
        time.sleep(2.5)


@pytest.fixture(autouse=True)
def released(topology, client, webhook):
    """Start and end every test released, with an empty webhook inbox; never leave writes revoked."""
    _force_release(client)
    with webhook.cond:
        webhook.payloads.clear()
    yield
    _force_release(client)


def state(topology) -> ks.KillSwitchStatus:
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "warehouse_admin")) as conn:
        return ks.status(conn)


def incidents(tag: str) -> list[dict]:
    with superuser_connect("compliance", "compliance") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT incident_id, kind, severity, actor, summary, details FROM compliance.incident_log "
            "WHERE summary LIKE %s ORDER BY incident_id",
            (f"%{tag}%",),
        )
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def lab(topology):
    """A source table on the primary, replicated, with no raw table or bookkeeping yet (and none
    left after the test)."""
    drop_lab_source(LAB_DB)
    with superuser_connect("primary", "postgres") as conn:
        conn.execute(f"CREATE DATABASE {LAB_DB}")
    with superuser_connect("primary", LAB_DB) as conn:
        conn.execute(
            "CREATE TABLE events (id bigint PRIMARY KEY, note text, amount numeric(18,2),"
            " updated_at timestamptz NOT NULL DEFAULT now())"
        )
        yield conn
    drop_lab_source(LAB_DB)


def insert_events(conn, first: int, count: int, age: str = "0 minutes") -> None:
    conn.execute(
        "INSERT INTO events (id, note, amount, updated_at)"
        " SELECT g, 'row ' || g, g / 10.0, now() - %s::interval FROM generate_series(%s::bigint, %s::bigint) g",
        (age, first, first + count - 1),
    )


def run_extract(topology, *, guard: bool = False):
    topology.wait_for_replica()
    connect_warehouse = connector(topology, "warehouse", "data_warehouse", "etl_user")
    if guard:  # what ReplicaExtractOperator does: check the switch before anything starts
        connect_warehouse = ks.guarded(connect_warehouse)
    return extract_table(TABLE, connector(topology, "replica", LAB_DB, "etl_reader"), connect_warehouse)


def raw_count(warehouse_su) -> int:
    return warehouse_su.execute(f"SELECT count(*) FROM {RAW}").fetchone()[0]


def replica_count(topology) -> int:
    topology.wait_for_replica()
    with psycopg.connect(topology.dsn("replica", LAB_DB, "etl_reader")) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def bookkeeping(warehouse_su):
    return warehouse_su.execute(
        "SELECT (SELECT cursor_value FROM etl.extract_watermark WHERE source_db = %s),"
        " (SELECT count(*) FROM etl.extract_batch WHERE source_db = %s)",
        (LAB_DB, LAB_DB),
    ).fetchone()


def _state_of(client, **labels) -> dict | None:
    found = client.active_alerts(labels)
    return found[0]["status"] if found else None


# ---------------------------------------------------------------------------------------------
# engage -> everything refused -> release -> catch up


def test_engage_stops_every_write_and_release_lands_everything_held(
    topology, lab, warehouse_su, conns, client, webhook
):
    tag = uuid.uuid4().hex[:8]
    insert_events(lab, 1, 100, age="30 minutes")
    assert run_extract(topology).rows_inserted == 100

    # Sessions open at the moment of engaging: an extract mid-batch (uncommitted write as
    # etl_writer) and an idle dbt session that already switched to dbt_writer.
    in_flight = psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user"))
    in_flight.execute("SET ROLE etl_writer")
    in_flight.execute(f"UPDATE {RAW} SET note = 'half-done batch' WHERE id = 1")
    dbt_idle = psycopg.connect(topology.dsn("warehouse", "data_warehouse", "dbt_runner"), autocommit=True)
    dbt_idle.execute("SET ROLE dbt_writer")
    pids = {in_flight.info.backend_pid, dbt_idle.info.backend_pid}

    reason = f"test {tag}: PII found in raw"
    result = ks.engage(reason, "oncall-jane", alert_client=client, **conns)

    assert result.changed and result.status.engaged and result.status.writes_revoked
    assert "ENGAGED" in result.message and "oncall-jane" in result.message
    assert pids <= {s["pid"] for s in result.sessions_terminated}
    assert all(s["terminated"] for s in result.sessions_terminated)
    for conn in (in_flight, dbt_idle):
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
        conn.close()
    assert warehouse_su.execute(f"SELECT note FROM {RAW} WHERE id = 1").fetchone()[0] == "row 1"  # rolled back

    # While engaged: the source keeps changing.
    insert_events(lab, 101, 50)
    lab.execute("UPDATE events SET note = 'changed while engaged', updated_at = now() WHERE id <= 10")
    watermark_before, batches_before = bookkeeping(warehouse_su)

    # The extract task refuses to start, naming who/when/why -- nothing written.
    with pytest.raises(ks.WritesRefusedError) as refused:
        run_extract(topology, guard=True)
    message = str(refused.value)
    assert "oncall-jane" in message and reason in message and "release" in message
    assert refused.value.status.engaged
    # Even without the Airflow-side check the database refuses (zero rows).
    with pytest.raises(ks.WritesRefusedError, match="kill switch"):
        run_extract(topology)
    assert raw_count(warehouse_su) == 100
    assert bookkeeping(warehouse_su) == (watermark_before, batches_before)

    # dbt's write path is gone too; both login roles' guard says why.
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "dbt_runner")) as dbt:
        with pytest.raises(errors.InsufficientPrivilege):
            dbt.execute("SET ROLE dbt_writer")
        dbt.rollback()
        with pytest.raises(ks.WritesRefusedError, match="oncall-jane"):
            ks.assert_writes_allowed(dbt)
    # The monitor (alerts, freshness from the batch log; it never reads raw) is not touched by the switch.
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor")) as monitor:
        landed = "SELECT sum(rows_inserted) FROM etl.extract_batch WHERE source_db = %s AND status = 'success'"
        assert monitor.execute(landed, (LAB_DB,)).fetchone()[0] == 100
        assert ks.status(monitor).engaged

    # Compliance record: who, when, why, what.
    (engaged_row,) = incidents(tag)
    assert engaged_row["kind"] == "kill_switch_engaged" and engaged_row["severity"] == "P1"
    assert engaged_row["actor"] == "oncall-jane" and engaged_row["summary"] == reason
    details = engaged_row["details"]
    assert {(r["member"], r["role"], r["is_member"]) for r in details["roles_revoked"]} == {
        ("etl_user", "etl_writer", False),
        ("dbt_runner", "dbt_writer", False),
    }
    assert pids <= {s["pid"] for s in details["sessions_terminated"]}
    assert result.incident_id == engaged_row["incident_id"]

    # The page, and staleness inhibited while it fires.
    (page,) = webhook.wait("/pager", alertname="KillSwitchEngaged")
    assert page["labels"] == {"alertname": "KillSwitchEngaged", "severity": "P1"}
    assert "oncall-jane" in page["annotations"]["summary"] and reason in page["annotations"]["summary"]
    assert page["annotations"]["runbook_url"].endswith("/KillSwitchEngaged.md")
    stale = Alert(
        labels={"alertname": "SourceStale", "severity": "P2", "source_db": LAB_DB, "table": "events"},
        annotations={"summary": f"{LAB_DB}.events is stale (kill switch test)"},
    )
    try:
        client.fire([stale])
        suppressed = poll(
            lambda: (
                (_state_of(client, source_db=LAB_DB) or {}).get("state") == "suppressed"
                and _state_of(client, source_db=LAB_DB)
            ),
            what="SourceStale suppressed",
        )
        (kill_alert,) = client.active_alerts({"alertname": "KillSwitchEngaged"})
        assert suppressed["inhibitedBy"] == [kill_alert["fingerprint"]]

        # Release: grants back, page resolved, the held staleness now notifies.
        released = ks.release(f"test {tag}: raw cleaned", "oncall-jane", alert_client=client, **conns)
        assert released.changed and not released.status.engaged and released.status.writes_allowed
        webhook.wait("/pager", status="resolved", alertname="KillSwitchEngaged")
        webhook.wait("/ticket", source_db=LAB_DB, table="events")
    finally:
        client.resolve([stale])
    assert [r["kind"] for r in incidents(tag)] == ["kill_switch_engaged", "kill_switch_released"]

    # The next extract lands everything that was held (nothing lost, no duplicates).
    summary = run_extract(topology, guard=True)
    assert summary.rows_inserted == 50 and summary.rows_updated == 10
    assert raw_count(warehouse_su) == replica_count(topology) == 150
    assert warehouse_su.execute(f"SELECT count(*) FROM {RAW} WHERE note = 'changed while engaged'").fetchone()[0] == 10
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user")) as etl:
        assert ks.assert_writes_allowed(etl).writes_allowed


def test_engaging_twice_is_harmless_and_keeps_who_and_why(topology, conns, client):
    tag = uuid.uuid4().hex[:8]
    first = ks.engage(f"test {tag}: first engage", "alice", alert_client=client, **conns)
    straggler = psycopg.connect(topology.dsn("warehouse", "data_warehouse", "etl_user"))  # connects while engaged
    second = ks.engage(f"test {tag}: second engage", "bob", alert_client=client, **conns)
    assert first.changed and not second.changed
    assert second.message.startswith("kill switch already engaged (by alice")
    assert (second.status.changed_by, second.status.reason, second.status.changed_at) == (
        "alice",
        f"test {tag}: first engage",
        first.status.changed_at,
    )
    assert straggler.info.backend_pid in {s["pid"] for s in second.sessions_terminated}
    straggler.close()
    assert second.incident_id == first.incident_id
    assert [r["kind"] for r in incidents(tag)] == ["kill_switch_engaged"]

    done = ks.release(f"test {tag}: release", "alice", alert_client=client, **conns)
    again = ks.release(f"test {tag}: release again", "bob", alert_client=client, **conns)
    assert done.changed and not again.changed and again.message.startswith("kill switch already released (by alice")
    assert [r["kind"] for r in incidents(tag)] == ["kill_switch_engaged", "kill_switch_released"]


def test_a_failed_record_is_completed_exactly_once_by_the_retry(topology, conns, client):
    tag = uuid.uuid4().hex[:8]

    def compliance_down():
        raise psycopg.OperationalError("connection to .118 refused (test)")

    with pytest.raises(ks.KillSwitchRecordError, match="incident_log not written") as failed:
        ks.engage(
            f"test {tag}: engage", "carol", alert_client=client, **{**conns, "connect_compliance": compliance_down}
        )
    assert "writes are stopped" in str(failed.value)
    assert state(topology).engaged and state(topology).writes_revoked  # the switch itself held
    assert incidents(tag) == []
    retry = ks.engage(f"test {tag}: engage (retry)", "carol", alert_client=client, **conns)
    assert not retry.changed
    (row,) = incidents(tag)
    assert row["summary"] == f"test {tag}: engage" and row["details"]["recorded_on_retry"] is True
    assert (
        ks.engage(f"test {tag}: engage (3rd)", "carol", alert_client=client, **conns).incident_id == row["incident_id"]
    )
    assert len(incidents(tag)) == 1


def test_unreachable_alertmanager_queues_the_page_in_order(topology, conns, client, warehouse_su):
    tag = uuid.uuid4().hex[:8]
    down = AlertmanagerClient("http://127.0.0.1:9", timeout=0.5, retries=0)
    warehouse_su.execute(f"DELETE FROM {OUTBOX_TABLE} WHERE alertname = %s", (ks.ALERTNAME,))
    try:
        engaged = ks.engage(f"test {tag}: engage", "dave", alert_client=down, **conns)
        released = ks.release(f"test {tag}: release", "dave", alert_client=down, **conns)
        assert (engaged.alert, released.alert) == ("queued", "queued")
        assert [r["details"]["alert"] for r in incidents(tag)] == ["queued", "queued"]
        with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor"), autocommit=True) as mon:
            assert drain_outbox(mon, client) >= 2
        sent = warehouse_su.execute(
            f"SELECT action, sent_at IS NOT NULL FROM {OUTBOX_TABLE} WHERE alertname = %s ORDER BY id",
            (ks.ALERTNAME,),
        ).fetchall()
        assert sent == [("fire", True), ("resolve", True)]  # delivered in order: never a fire after the resolve
        assert client.active_alerts({"alertname": "KillSwitchEngaged"}) == []
    finally:
        warehouse_su.execute(f"DELETE FROM {OUTBOX_TABLE} WHERE alertname = %s", (ks.ALERTNAME,))


def test_bad_input_changes_nothing(topology, conns):
    before = state(topology)
    for reason, actor, match in [
        ("too short", "erin", "at least 10 characters"),
        ("          padded          ", "erin", "at least 10 characters"),
        ("a perfectly fine reason", "  ", "actor"),
    ]:
        with pytest.raises(ks.KillSwitchInputError, match=match):
            ks.engage(reason, actor, **conns)
    with pytest.raises(ks.KillSwitchInputError, match="must be exactly 'STOP ALL WAREHOUSE WRITES'"):
        ks.check_confirmation("engage", ks.CONFIRMATIONS["release"])
    ks.check_confirmation("release", " RESUME WAREHOUSE WRITES ")
    assert state(topology) == before


def test_refire_keeps_the_page_alive_while_engaged(topology, conns, client, webhook):
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor"), autocommit=True) as mon:
        assert ks.refire_if_engaged(mon, client) is None
        ks.engage("test refire: engaged without a page", "frank", **conns)  # no alert client
        assert client.active_alerts({"alertname": "KillSwitchEngaged"}) == []
        assert ks.refire_if_engaged(mon, client) == "sent"
    (page,) = webhook.wait("/pager", alertname="KillSwitchEngaged")
    assert "frank" in page["annotations"]["summary"]


# ---------------------------------------------------------------------------------------------
# the DAG and the CLI


@pytest.fixture
def kill_switch_dag(airflow_db, alertmanager, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    bag = DagBag(dag_folder=str(REPO / "dags" / "kill_switch.py"))
    assert bag.import_errors == {}
    return bag.dags["kill_switch"]


def test_dag_engages_then_releases(topology, kill_switch_dag, webhook):
    tag = uuid.uuid4().hex[:8]
    run = kill_switch_dag.test(run_conf={**ENGAGE_CONF, "reason": f"test {tag}: engaged from the DAG"})
    assert run.state == "success"
    st = state(topology)
    assert st.engaged and st.writes_revoked and st.changed_by == "dag_test"  # dag.test()'s triggering user
    webhook.wait("/pager", alertname="KillSwitchEngaged")
    (row,) = incidents(tag)
    assert row["actor"] == "dag_test"
    assert row["details"]["origin"] == {
        "via": "airflow",
        "dag_id": "kill_switch",
        "run_id": run.run_id,
        "triggering_user_name": "dag_test",
    }

    run = kill_switch_dag.test(run_conf={**RELEASE_CONF, "reason": f"test {tag}: released from the DAG"})
    assert run.state == "success"
    assert state(topology).writes_allowed and not state(topology).engaged
    webhook.wait("/pager", status="resolved", alertname="KillSwitchEngaged")
    assert [r["kind"] for r in incidents(tag)] == ["kill_switch_engaged", "kill_switch_released"]


@pytest.mark.parametrize(
    ("conf", "outcome"),
    [
        # passes the trigger form (a valid phrase) but not the task's re-check: the other action's phrase
        ({"action": "engage", "confirm": ks.CONFIRMATIONS["release"]}, "run failed"),
        # fails the form's pattern: no run is created at all
        ({"action": "engage", "confirm": "yes"}, "rejected"),
    ],
    ids=["phrase-of-the-other-action", "not-a-phrase"],
)
def test_dag_with_a_wrong_confirmation_changes_nothing(topology, kill_switch_dag, conf, outcome):
    from airflow.sdk.exceptions import ParamValidationError

    tag = uuid.uuid4().hex[:8]
    before = state(topology)
    run_conf = {**conf, "reason": f"test {tag}: wrong confirmation"}
    if outcome == "rejected":
        with pytest.raises(ParamValidationError, match="confirm"):
            kill_switch_dag.test(run_conf=run_conf)
    else:
        run = kill_switch_dag.test(run_conf=run_conf)
        assert run.state == "failed"
        # AirflowFailException: no retries (each task that ran was tried exactly once)
        assert {ti.try_number for ti in run.get_task_instances() if ti.state == "failed"} == {1}
    assert state(topology) == before and not before.engaged
    assert incidents(tag) == []


def test_cli_engage_status_release(topology, alertmanager, monkeypatch, client):
    import contextlib
    import io

    from dataacuity import kill_switch_cli as cli

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)  # the test Alertmanager, not the topology's
    tag = uuid.uuid4().hex[:8]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["engage", "--reason", "short"]) == 2
        assert cli.main(["engage", "--reason", f"test {tag}: from a shell", "--actor", "gina"]) == 0
        assert cli.main(["status", "--json"]) == 3
    (page,) = client.active_alerts({"alertname": "KillSwitchEngaged"})
    assert "gina" in page["annotations"]["summary"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["release", "--reason", f"test {tag}: from a shell", "--actor", "gina"]) == 0
        assert cli.main(["status"]) == 0
    assert client.active_alerts({"alertname": "KillSwitchEngaged"}) == []
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("kill switch ENGAGED (by gina")
    status_json = json.loads("\n".join(lines[1 : lines.index("}") + 1]))
    assert status_json["engaged"] is True and status_json["changed_by"] == "gina"
    assert lines[-2].startswith("kill switch RELEASED (by gina")
    assert lines[-1].startswith("kill switch released (warehouse writes allowed)")
    assert [r["details"]["origin"]["via"] for r in incidents(tag)] == ["cli", "cli"]


def test_extract_dag_refuses_to_start_while_engaged_and_pages_nothing_more(
    topology, conns, client, webhook, seeded_sources, airflow_db, alertmanager, monkeypatch
):
    """The operator checks the switch before it starts: the task fails at once (no retries), names
    who and why, lands nothing, and sends no TaskFailed on top of the KillSwitchEngaged page."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    ks.engage("operator refusal test: leak suspected", "oncall-test", alert_client=client, **conns)
    with superuser_connect("warehouse", "data_warehouse") as su:
        before = su.execute("SELECT count(*) FROM etl.extract_batch WHERE source_db = 'markets_db'").fetchone()[0]
    dag = DagBag(dag_folder=str(REPO / "dags" / "extract.py")).dags["extract__markets_db"]
    run = dag.test()
    assert run.state == "failed"
    # failed at once: AirflowFailException skips the retries (each task tried exactly once)
    tries = {ti.task_id: (ti.state, ti.try_number) for ti in run.get_task_instances()}
    assert tries and all(state in ("failed", "upstream_failed", "skipped") for state, _ in tries.values()), tries
    assert all(n <= 1 for _, n in tries.values()), tries
    with superuser_connect("warehouse", "data_warehouse") as su:
        after = su.execute("SELECT count(*) FROM etl.extract_batch WHERE source_db = 'markets_db'").fetchone()[0]
    assert after == before
    assert client.active_alerts({"alertname": "KillSwitchEngaged"})
    # No TaskFailed, proven against a positive control: a TaskFailed-shaped marker sent now (after the
    # run's callbacks) reaches the ticket webhook; by then Alertmanager holds anything sent before it.
    marker = Alert(
        labels={"alertname": "TaskFailed", "severity": "P2", "dag_id": f"marker_{uuid.uuid4().hex[:8]}"},
        annotations={"summary": "positive control"},
    )
    client.fire([marker])
    webhook.wait("/ticket", alertname="TaskFailed", dag_id=marker.labels["dag_id"])
    assert client.active_alerts({"alertname": "TaskFailed", "dag_id": "extract__markets_db"}) == []
    assert not webhook.alerts(alertname="TaskFailed", dag_id="extract__markets_db")
    client.resolve([marker])


def test_a_page_that_reached_nothing_is_reported_and_the_switch_holds(topology, conns, client):
    """Alertmanager down AND the outbox unreachable: writes are stopped, and engage says the page
    was not sent (KillSwitchRecordError, rerun) instead of reporting success."""
    tag = uuid.uuid4().hex[:8]
    down = AlertmanagerClient("http://127.0.0.1:9", timeout=0.5, retries=0)

    def monitor_down():
        raise psycopg.OperationalError("warehouse monitor connection refused (test)")

    with pytest.raises(ks.KillSwitchRecordError, match="KillSwitchEngaged page was not sent") as failed:
        ks.engage(f"test {tag}: engage", "hank", alert_client=down, **{**conns, "connect_monitor": monitor_down})
    assert "writes are stopped" in str(failed.value)
    assert state(topology).engaged and state(topology).writes_revoked
    (row,) = incidents(tag)
    assert row["details"]["alert"].startswith("not sent: AlertDeliveryError")
    retry = ks.engage(f"test {tag}: engage (retry)", "hank", alert_client=client, **conns)
    assert retry.alert == "sent" and not retry.changed
    (page,) = client.active_alerts({"alertname": "KillSwitchEngaged"})
    assert "hank" in page["annotations"]["summary"]
