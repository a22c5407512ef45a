"""An alert that cannot be delivered is not success (issue 10 §3): while the outbox cannot drain the
monitor's last task fails loudly, and a P1 goes out when Alertmanager is back. Real warehouse outbox,
a real unreachable address, then the real test Alertmanager."""

from __future__ import annotations

import socket

import pytest

from dataacuity import monitoring
from dataacuity.alerting import Alert, notify
from tests.conftest import REPO, superuser_connect


def _dead_url() -> str:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def empty_outbox(topology):
    with superuser_connect("warehouse", "data_warehouse") as su:
        su.execute("DELETE FROM ops.alert_outbox WHERE sent_at IS NULL")
    yield
    with superuser_connect("warehouse", "data_warehouse") as su:
        su.execute("DELETE FROM ops.alert_outbox WHERE sent_at IS NULL")


def test_undeliverable_alerts_fail_the_monitor_then_page_p1_when_alertmanager_is_back(
    empty_outbox, alertmanager, webhook, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", _dead_url())
    alert = Alert(
        labels={"alertname": "SourceStale", "severity": "P2", "source_db": "delivery_lab", "table": "orders"},
        annotations={"summary": "delivery lab: pipeline behind"},
    )
    assert notify([alert]) == "queued"
    monitoring.drain_alert_outbox()  # Alertmanager still down: nothing delivered, no exception here
    with pytest.raises(monitoring.AlertsUndeliveredError, match=r"1 alert\(s\) NOT DELIVERED.*SourceStale"):
        monitoring.assert_alerts_delivered()

    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)  # Alertmanager is back
    with webhook.cond:
        webhook.payloads.clear()
    assert monitoring.drain_alert_outbox() == 1
    monitoring.assert_alerts_delivered()  # nothing pending: the task succeeds again
    webhook.wait("/ticket", alertname="SourceStale", source_db="delivery_lab")
    (page,) = webhook.wait("/pager", alertname="AlertsUndelivered")
    assert page["labels"]["severity"] == "P1" and "SourceStale" in page["annotations"]["description"]


def test_the_monitor_reports_undelivered_alerts_even_after_a_failed_check(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags" / "freshness_monitor.py")).dags["freshness_monitor"]
    last = dag.get_task("alerts_delivered")
    assert last.trigger_rule == "all_done" and last.upstream_task_ids == {"check_sources", "check_pushback"}
