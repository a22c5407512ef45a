"""On-call alerting against the REAL Alertmanager binary (loopback) and the real warehouse.

An Alertmanager per test session runs the production routing (config/alertmanager/alertmanager.yml)
rendered with local webhook URLs, 1 s timings and the P2 route active at every hour; a webhook
receiver in a thread collects the v4 notifications. Every test uses its own object labels, so the
shared Alertmanager never mixes their alerts. The outbox tests use `warehouse_superuser_dsn`
(tests/conftest.py).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from dataacuity.alerting import (
    KNOWN_ALERTNAMES,
    OUTBOX_TABLE,
    RUNBOOK_BASE,
    Alert,
    AlertmanagerClient,
    AlertmanagerRejected,
    AlertmanagerUnavailable,
    AlertValidationError,
    base_url_from_connection,
    drain_outbox,
    pending_count,
    runbook_url,
    send_or_queue,
)
from tests.alerting_support import _free_port, _tool, poll
from tools import alertmanager_local as aml

REPO = Path(__file__).resolve().parent.parent
AM_CONFIG = REPO / "config" / "alertmanager" / "alertmanager.yml"
OUTBOX_DDL = REPO / "include" / "sql" / "warehouse" / "0100_ops_alert_outbox.sql"
RUNBOOKS = REPO / "docs" / "runbooks"


def _alert(alertname: str, severity: str, summary: str = "", **labels: str) -> Alert:
    return Alert(
        labels={"alertname": alertname, "severity": severity, **labels},
        annotations={"summary": summary or f"{alertname} on {labels}", "description": "lag 840 s (2.8x)"},
        generator_url="http://airflow.local/dags/freshness_monitor/runs/manual__2026-01-01T00:00:00",
    )


def _state(client: AlertmanagerClient, **labels: str) -> str | None:
    found = client.active_alerts(labels)
    return found[0]["status"]["state"] if found else None


# ---------------------------------------------------------------------------------------------
# static config: amtool, runbooks


def test_amtool_accepts_shipped_config():
    result = subprocess.run([_tool("amtool"), "check-config", str(AM_CONFIG)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=PIITestFailed", "severity=P1", "dag_id=transform"], "pager"),
        (["alertname=SourceStale", "severity=P2", "source_db=ledger_db", "table=transactions"], "ticket"),
        (["alertname=Unknown", "severity=P3"], "ticket"),  # fallback: never dropped
    ],
)
def test_shipped_routing_tree(labels, receiver):
    result = subprocess.run(
        [_tool("amtool"), "config", "routes", "test", f"--config.file={AM_CONFIG}", f"--verify.receivers={receiver}"]
        + labels,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shipped_config_business_hours_and_inhibition():
    config = yaml.safe_load(AM_CONFIG.read_text())
    (interval,) = [ti for ti in config["time_intervals"] if ti["name"] == "business_hours"]
    assert interval["time_intervals"] == [
        {
            "weekdays": ["monday:friday"],
            "times": [{"start_time": "08:00", "end_time": "17:00"}],
            "location": "Africa/Johannesburg",
        }
    ]
    routes = {r["receiver"]: r for r in config["route"]["routes"]}
    assert routes["pager"]["matchers"] == ['severity="P1"'] and "active_time_intervals" not in routes["pager"]
    assert routes["ticket"]["matchers"] == ['severity="P2"']
    assert routes["ticket"]["active_time_intervals"] == ["business_hours"]
    assert config["route"]["group_by"] == ["alertname", "source_db", "table", "dag_id", "app"]
    assert all(".invalid/" in hook["url"] for r in config["receivers"] for hook in r["webhook_configs"])
    p1_over_p2 = [r for r in config["inhibit_rules"] if 'severity="P1"' in r["source_matchers"]]
    assert {tuple(r["equal"]) for r in p1_over_p2} == {("source_db", "table", "dag_id", "app")}


def test_rendered_local_config(local_config, webhook):
    result = subprocess.run([_tool("amtool"), "check-config", str(local_config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load(local_config.read_text())
    urls = {r["name"]: [h["url"] for h in r["webhook_configs"]] for r in config["receivers"]}
    assert urls == {"pager": [webhook.url("/pager")], "ticket": [webhook.url("/ticket")]}
    (interval,) = [ti for ti in config["time_intervals"] if ti["name"] == "business_hours"]
    assert interval["time_intervals"] == [{"weekdays": ["sunday:saturday"]}]
    for route in [config["route"], *config["route"]["routes"]]:
        assert route["group_wait"] == "1s" and route["group_interval"] == "1s"
    # inhibition and routing untouched
    assert config["inhibit_rules"] == yaml.safe_load(AM_CONFIG.read_text())["inhibit_rules"]


def test_render_without_always_keeps_business_hours(tmp_path):
    rendered = aml.render_local_config("http://127.0.0.1:1/p", "http://127.0.0.1:1/t", False, tmp_path / "am.yml")
    (interval,) = rendered["time_intervals"]
    assert interval["time_intervals"][0]["location"] == "Africa/Johannesburg"
    assert (tmp_path / "am.yml").read_text().startswith("# GENERATED")


@pytest.mark.parametrize("name", KNOWN_ALERTNAMES)
def test_runbook_page(name):
    page = RUNBOOKS / f"{name}.md"
    assert page.is_file(), f"missing runbook {page}"
    text = page.read_text()
    assert text.startswith(f"# {name} (")
    for section in ("## What it means", "## First 3 checks", "## Resolve", "## Escalate"):
        assert section in text, f"{page}: missing {section!r}"
    assert "```sql" in text, f"{page}: the on-call's SQL is missing"
    assert runbook_url(name) == f"{RUNBOOK_BASE}/{name}.md"


# ---------------------------------------------------------------------------------------------
# alert model


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({"run_id": "x"}, "per-run data"),
        ({"dag_run_id": "x"}, "per-run data"),
        ({"value": "x"}, "per-run data"),
        ({"ts": "x"}, "per-run data"),
        ({"started_at": "x"}, "per-run data"),
        ({"lag_seconds": "x"}, "per-run data"),
        ({"dag_id": "manual__2026-01-01T00:00:00+00:00"}, "timestamp"),
        ({"dag_id": "scheduled__x"}, "run id"),
        ({"source_db": "ledger_db", "table": "2026-01-01"}, "timestamp"),
        ({"dag_id": "2026-01-01T08:00:00Z"}, "timestamp"),
        ({"dag_id": "1767225600"}, "number"),
        ({"dag_id": "840.5"}, "number"),
        ({"dag_id": "6f1c0c2e-8a51-4b7e-9d0e-2b1f8f3c9a10"}, "UUID"),
        ({"dag_id": ""}, "empty"),
        ({"dag_id": 5}, "must be a string"),
        ({"table": "transactions"}, "needs 'source_db'"),
        ({"__meta": "x"}, "not a valid"),
        ({"bad-key": "x"}, "not a valid"),
    ],
)
def test_labels_reject_per_run_data(labels, message):
    with pytest.raises(AlertValidationError, match=re.escape(message)):
        Alert(labels={"alertname": "TaskFailed", "severity": "P2", **labels}, annotations={"summary": "s"})


@pytest.mark.parametrize(
    "labels",
    [
        {"severity": "P1"},
        {"alertname": "TaskFailed"},
        {"alertname": "TaskFailed", "severity": "P3"},
        {"alertname": "Task Failed", "severity": "P1"},
    ],
)
def test_labels_require_alertname_and_severity(labels):
    with pytest.raises(AlertValidationError):
        Alert(labels=labels, annotations={"summary": "s"})


def test_annotations_carry_the_figures_and_runbook():
    with pytest.raises(AlertValidationError, match="summary"):
        Alert(labels={"alertname": "TaskFailed", "severity": "P2", "dag_id": "extract__ledger_db"})
    with pytest.raises(AlertValidationError, match="must be a string"):
        Alert(labels={"alertname": "TaskFailed", "severity": "P2"}, annotations={"summary": "s", "lag": 840})
    alert = _alert("SourceStale", "P2", source_db="ledger_db", table="transactions")
    assert alert.annotations["runbook_url"] == runbook_url("SourceStale")
    fired = alert.to_payload()
    assert "endsAt" not in fired and "startsAt" not in fired
    assert fired["generatorURL"].startswith("http://airflow.local/")
    assert fired["labels"] == {
        "alertname": "SourceStale",
        "severity": "P2",
        "source_db": "ledger_db",
        "table": "transactions",
    }
    now = datetime.now(UTC)
    resolved = alert.to_payload(ends_at=now)
    assert resolved["endsAt"].endswith("Z") and resolved["annotations"] == fired["annotations"]
    # identity is the label set only: other annotations, same fingerprint
    other = Alert(labels=dict(alert.labels), annotations={"summary": "different figures"})
    assert other.fingerprint == alert.fingerprint


# ---------------------------------------------------------------------------------------------
# client transport (a real HTTP server that fails on purpose)


class FlakyServer:
    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                outer.requests.append((self.command, self.path))
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"[]" if self.command == "GET" else b"")

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_client_retries_5xx_then_succeeds():
    server = FlakyServer([503, 502])
    try:
        AlertmanagerClient(server.url, retries=3, backoff=0.01).fire([_alert("TaskFailed", "P2", dag_id="flaky")])
        assert server.requests == [("POST", "/api/v2/alerts")] * 3
    finally:
        server.close()


def test_client_gives_up_after_retries_and_does_not_retry_4xx():
    server = FlakyServer([500, 500, 500, 400])
    try:
        client = AlertmanagerClient(server.url, retries=2, backoff=0.01)
        with pytest.raises(AlertmanagerUnavailable, match="HTTP 500"):
            client.fire([_alert("TaskFailed", "P2", dag_id="flaky")])
        assert len(server.requests) == 3
        with pytest.raises(AlertmanagerRejected, match="HTTP 400"):
            client.fire([_alert("TaskFailed", "P2", dag_id="flaky")])
        assert len(server.requests) == 4
    finally:
        server.close()


def test_client_connection_refused_is_unavailable(mocker):
    """A refused connection is retried `retries` times with the exponential backoff, then reported
    as unavailable (the waits are counted, not timed)."""
    port = _free_port()
    sleep = mocker.patch("dataacuity.alerting.client.time.sleep")
    with pytest.raises(AlertmanagerUnavailable):
        AlertmanagerClient(f"http://127.0.0.1:{port}", retries=2, backoff=0.01).fire(
            [_alert("TaskFailed", "P2", dag_id="x")]
        )
    assert [c.args[0] for c in sleep.call_args_list] == [0.01, 0.02]


def test_base_url_from_airflow_connection(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", "http://127.0.0.1:59093")
    monkeypatch.setenv("AIRFLOW_CONN_AM_PROD", "https://alertmanager.internal:9443/am")
    assert base_url_from_connection() == "http://127.0.0.1:59093"
    assert base_url_from_connection("am_prod") == "https://alertmanager.internal:9443/am"
    assert AlertmanagerClient.from_connection().base_url == "http://127.0.0.1:59093"


def test_module_imports_without_airflow():
    code = "import sys, dataacuity.alerting; assert 'airflow' not in sys.modules, 'airflow imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={"PYTHONPATH": f"{REPO / 'plugins'}"})


# ---------------------------------------------------------------------------------------------
# the real Alertmanager: routing, resolve, inhibition


def test_p1_reaches_pager(client, webhook):
    alert = _alert("ExtractDeadlineMissed", "P1", "extract__p1_db missed its deadline", dag_id="extract__p1_db")
    client.fire([alert])
    (got,) = webhook.wait("/pager", dag_id="extract__p1_db")
    assert got["labels"] == {"alertname": "ExtractDeadlineMissed", "severity": "P1", "dag_id": "extract__p1_db"}
    assert got["annotations"] == alert.annotations
    assert got["annotations"]["runbook_url"] == runbook_url("ExtractDeadlineMissed")
    assert got["generatorURL"] == alert.generator_url
    assert got["_payload"]["version"] == "4" and got["_payload"]["receiver"] == "pager"
    assert not webhook.alerts("/ticket", dag_id="extract__p1_db")
    client.resolve([alert])


def test_p2_reaches_ticket(client, webhook):
    alert = _alert("SourceStale", "P2", source_db="p2_db", table="orders")
    client.fire([alert])
    (got,) = webhook.wait("/ticket", source_db="p2_db")
    assert got["labels"]["severity"] == "P2" and got["_payload"]["receiver"] == "ticket"
    assert got["annotations"]["description"] == "lag 840 s (2.8x)"
    assert not webhook.alerts("/pager", source_db="p2_db")
    client.resolve([alert])


def test_refire_is_idempotent_and_resolve_notifies(client, webhook):
    alert = _alert("PushBackStale", "P1", app="resolveapp")
    client.fire([alert])
    client.fire([alert])  # re-sent while the condition holds: still one alert
    webhook.wait("/pager", app="resolveapp")
    assert len(client.active_alerts({"app": "resolveapp"})) == 1
    client.resolve([alert])
    (resolved,) = webhook.wait("/pager", status="resolved", app="resolveapp")
    assert resolved["annotations"] == alert.annotations  # full annotations resent
    assert resolved["endsAt"] != "0001-01-01T00:00:00Z"
    assert client.active_alerts({"app": "resolveapp"}) == []
    assert len(webhook.alerts("/pager", status="firing", app="resolveapp")) == 1


def test_p1_inhibits_p2_on_the_same_object(client, webhook):
    p1 = _alert("ExtractDeadlineMissed", "P1", dag_id="extract__inhib_db")
    p2 = _alert("TaskFailed", "P2", dag_id="extract__inhib_db", task_id="extract_orders")
    other = _alert("TaskFailed", "P2", dag_id="extract__other_db", task_id="extract_orders")
    try:
        client.fire([p1])
        poll(lambda: _state(client, dag_id="extract__inhib_db", alertname="ExtractDeadlineMissed"), what="P1 stored")
        client.fire([p2, other])
        poll(
            lambda: _state(client, dag_id="extract__inhib_db", alertname="TaskFailed") == "suppressed",
            what="P2 suppressed",
        )
        webhook.wait("/pager", dag_id="extract__inhib_db")
        webhook.wait("/ticket", dag_id="extract__other_db")  # same route, sent after p2: p2 had its chance
        (p2_state,) = client.active_alerts({"dag_id": "extract__inhib_db", "alertname": "TaskFailed"})
        assert p2_state["status"]["state"] == "suppressed"
        (p1_state,) = client.active_alerts({"dag_id": "extract__inhib_db", "alertname": "ExtractDeadlineMissed"})
        assert p2_state["status"]["inhibitedBy"] == [p1_state["fingerprint"]]
        assert _state(client, dag_id="extract__other_db") == "active"
        assert webhook.alerts(dag_id="extract__inhib_db", alertname="TaskFailed") == []
    finally:
        client.resolve([p1, p2, other])


def test_kill_switch_suppresses_staleness(client, webhook):
    kill = _alert("KillSwitchEngaged", "P1", "kill switch engaged by test")
    stale = _alert("SourceStale", "P2", source_db="ks_db", table="orders")
    pushback = _alert("PushBackStale", "P1", app="ksapp")
    unrelated = _alert("TaskFailed", "P2", dag_id="extract__ks_db")  # not staleness: still notifies
    try:
        client.fire([kill])
        poll(lambda: _state(client, alertname="KillSwitchEngaged"), what="kill switch stored")
        client.fire([stale, pushback, unrelated])
        poll(lambda: _state(client, source_db="ks_db") == "suppressed", what="SourceStale suppressed")
        poll(lambda: _state(client, app="ksapp") == "suppressed", what="PushBackStale suppressed")
        webhook.wait("/pager", alertname="KillSwitchEngaged")
        webhook.wait("/ticket", dag_id="extract__ks_db")
        assert _state(client, dag_id="extract__ks_db") == "active"
        assert webhook.alerts(source_db="ks_db") == [] and webhook.alerts(app="ksapp") == []

        client.resolve([kill])  # released: the staleness that still holds now notifies
        webhook.wait("/pager", status="resolved", alertname="KillSwitchEngaged")
        webhook.wait("/ticket", source_db="ks_db")
        webhook.wait("/pager", app="ksapp")
    finally:
        client.resolve([kill, stale, pushback, unrelated])


# ---------------------------------------------------------------------------------------------
# durable outbox (real PostgreSQL)


@pytest.fixture
def outbox_conn(warehouse_superuser_dsn):
    import psycopg

    with psycopg.connect(warehouse_superuser_dsn, autocommit=True) as admin:
        admin.execute(OUTBOX_DDL.read_text())  # idempotent: a second apply is a no-op
        admin.execute(OUTBOX_DDL.read_text())
        admin.execute(f"DELETE FROM {OUTBOX_TABLE}")  # test database: start from an empty queue
    with psycopg.connect(warehouse_superuser_dsn) as conn:  # default (non-autocommit), like a DAG
        yield conn


def _rows(conn) -> list[dict]:
    from psycopg.rows import dict_row

    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT * FROM {OUTBOX_TABLE} ORDER BY id")
        return cur.fetchall()


def _received_firing(base_url: str) -> float:
    """alertmanager_alerts_received_total{status="firing"}: how many firing alerts were POSTed."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    pattern = r'^alertmanager_alerts_received_total\{status="firing"[^}]*\} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.M))


def test_unreachable_goes_to_outbox_then_drains_exactly_once(
    outbox_conn, local_config, webhook, tmp_path, caplog, alertmanager
):
    port = _free_port(exclude={int(alertmanager.rsplit(":", 1)[1])})
    base = f"http://127.0.0.1:{port}"
    down = AlertmanagerClient(base, timeout=1, retries=2, backoff=0.01)
    alert = _alert("ExtractDeadlineMissed", "P1", dag_id="extract__outbox_db")

    with caplog.at_level(logging.ERROR, logger="dataacuity.alerting"):
        assert send_or_queue(outbox_conn, down, [alert]) == "queued"  # no exception
    assert any("ALERTMANAGER UNREACHABLE" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    (row,) = _rows(outbox_conn)
    assert row["action"] == "fire" and row["sent_at"] is None and row["alertname"] == "ExtractDeadlineMissed"
    assert row["payload"]["labels"] == alert.labels and "endsAt" not in row["payload"]
    assert row["payload"]["startsAt"] and row["last_error"] and row["fingerprint"] == alert.fingerprint
    assert drain_outbox(outbox_conn, down) == 0  # still down: stays pending, attempt recorded
    (row,) = _rows(outbox_conn)
    assert row["attempts"] == 1 and row["sent_at"] is None and pending_count(outbox_conn) == 1

    state = tmp_path / "am"
    aml.start_alertmanager(state, port, local_config)  # Alertmanager comes back
    try:
        assert aml.is_running(state)
        up = AlertmanagerClient(base, timeout=2, retries=2, backoff=0.1)
        assert drain_outbox(outbox_conn, up) == 1
        assert drain_outbox(outbox_conn, up) == 0  # a sent row is never sent again
        (got,) = webhook.wait("/pager", dag_id="extract__outbox_db")
        assert got["annotations"] == alert.annotations
        assert _received_firing(base) == 1.0  # exactly one POST of the alert reached Alertmanager
        (row,) = _rows(outbox_conn)
        assert row["sent_at"] is not None and row["attempts"] == 2 and row["last_error"] is None
        assert pending_count(outbox_conn) == 0
        up.resolve([alert])
        webhook.wait("/pager", status="resolved", dag_id="extract__outbox_db")
        assert len(webhook.alerts("/pager", status="firing", dag_id="extract__outbox_db")) == 1
    finally:
        aml.stop_alertmanager(state)
    assert not aml.is_running(state)


def test_outbox_keeps_order_fire_then_resolve(outbox_conn, client, alertmanager):
    down = AlertmanagerClient(f"http://127.0.0.1:{_free_port()}", timeout=1, retries=0)
    alert = _alert("SourceStale", "P2", source_db="order_db", table="orders")
    assert send_or_queue(outbox_conn, down, [alert]) == "queued"
    # Alertmanager back: a resolve must not overtake the queued fire -> the backlog drains first
    assert send_or_queue(outbox_conn, client, [alert], resolve=True) == "sent"
    (row,) = _rows(outbox_conn)
    assert row["sent_at"] is not None
    assert client.active_alerts({"source_db": "order_db"}) == []

    # both queued while down: drained in order, the alert ends resolved
    assert send_or_queue(outbox_conn, down, [alert]) == "queued"
    assert send_or_queue(outbox_conn, down, [alert], resolve=True) == "queued"
    queued = [r for r in _rows(outbox_conn) if r["sent_at"] is None]
    assert [r["action"] for r in queued] == ["fire", "resolve"] and "endsAt" in queued[1]["payload"]
    assert drain_outbox(outbox_conn, client) == 2
    sent = [r for r in _rows(outbox_conn)][-2:]
    assert sent[0]["sent_at"] < sent[1]["sent_at"]
    assert client.active_alerts({"source_db": "order_db"}) == []


def test_two_drainers_never_send_the_same_row(outbox_conn, warehouse_superuser_dsn, client):
    import psycopg

    down = AlertmanagerClient(f"http://127.0.0.1:{_free_port()}", timeout=1, retries=0)
    first = _alert("TaskFailed", "P2", dag_id="extract__lock_db", task_id="extract_a")
    second = _alert("TaskFailed", "P2", dag_id="extract__lock_db", task_id="extract_b")
    send_or_queue(outbox_conn, down, [first])
    send_or_queue(outbox_conn, down, [second])
    outbox_conn.execute("SET lock_timeout = '5s'")  # a drainer that waited for locks would fail, not hang
    outbox_conn.commit()
    with psycopg.connect(warehouse_superuser_dsn) as other:  # a drainer mid-batch holding row 1
        with other.cursor() as cur:
            cur.execute(
                f"SELECT id FROM {OUTBOX_TABLE} WHERE sent_at IS NULL ORDER BY created_at, id LIMIT 1 FOR UPDATE"
            )
            (locked_id,) = cur.fetchone()
            assert drain_outbox(outbox_conn, client) == 1  # skips the locked row, no wait
            rows = {r["id"]: r for r in _rows(outbox_conn)}
            assert rows[locked_id]["sent_at"] is None
            assert [r["sent_at"] is not None for i, r in rows.items() if i != locked_id] == [True]
        other.rollback()
    assert drain_outbox(outbox_conn, client) == 1
    assert drain_outbox(outbox_conn, client) == 0
    client.resolve([first, second])


def test_rejected_payload_is_kept_but_does_not_block(outbox_conn, client):
    good = _alert("TaskFailed", "P2", dag_id="extract__poison_db")
    with outbox_conn.transaction():
        outbox_conn.execute(
            f"INSERT INTO {OUTBOX_TABLE} (action, alertname, fingerprint, payload) VALUES "
            "('fire', 'Broken', 'x', %s::jsonb)",
            (json.dumps({"labels": {"alertname": "Broken"}, "startsAt": "not a time"}),),
        )
    down = AlertmanagerClient(f"http://127.0.0.1:{_free_port()}", timeout=1, retries=0)
    send_or_queue(outbox_conn, down, [good])
    assert drain_outbox(outbox_conn, client) == 1
    broken, sent = _rows(outbox_conn)
    assert (
        broken["gave_up_at"] is not None
        and broken["sent_at"] is None
        and re.search(r"HTTP 4\d\d", broken["last_error"])
    )
    assert sent["sent_at"] is not None and pending_count(outbox_conn) == 0
    client.resolve([good])


# ---------------------------------------------------------------------------------------------
# start/stop helpers


def test_start_errors_name_the_fix(tmp_path, local_config, monkeypatch, alertmanager):
    busy = int(alertmanager.rsplit(":", 1)[1])
    with pytest.raises(aml.AlertmanagerLocalError, match=f"port {busy} .* in use"):
        aml.start_alertmanager(tmp_path / "busy", busy, local_config)
    monkeypatch.setattr(aml, "ALERTMANAGER_BIN", "/nonexistent/prometheus-alertmanager")
    with pytest.raises(aml.AlertmanagerLocalError, match="apt-get install -y prometheus-alertmanager"):
        aml.start_alertmanager(tmp_path / "nobin", _free_port(), local_config)
    assert not aml.is_running(tmp_path / "nobin")
    assert aml.stop_alertmanager(tmp_path / "nobin") is False
