"""notify, the one alert path, against the real Alertmanager and the real warehouse outbox:
it says "sent" only when Alertmanager has the alert, "queued" only when the outbox row exists,
and raises AlertDeliveryError -- never returns quietly -- when the alert reached neither."""

from __future__ import annotations

import logging
import uuid

import psycopg
import pytest

from dataacuity.alerting import OUTBOX_TABLE, Alert, AlertDeliveryError, AlertmanagerClient, notify
from tests.alerting_support import _free_port
from tests.conftest import superuser_connect


def _alert(tag: str) -> Alert:
    return Alert(
        labels={"alertname": "TaskFailed", "severity": "P2", "dag_id": f"notify_{tag}"},
        annotations={"summary": f"notify test {tag}"},
    )


@pytest.fixture
def outbox(topology):
    """Connector to the outbox as pipeline_monitor, and the rows the test queued (removed after)."""
    tags: list[str] = []

    def rows(tag: str) -> list[tuple]:
        tags.append(tag)
        with superuser_connect("warehouse", "data_warehouse") as su:
            return su.execute(
                f"SELECT action, last_error FROM {OUTBOX_TABLE} WHERE payload->'labels'->>'dag_id' = %s ORDER BY id",
                (f"notify_{tag}",),
            ).fetchall()

    def connect():
        return psycopg.connect(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor"), autocommit=True)

    yield connect, rows
    with superuser_connect("warehouse", "data_warehouse") as su:
        for tag in tags:
            su.execute(f"DELETE FROM {OUTBOX_TABLE} WHERE payload->'labels'->>'dag_id' = %s", (f"notify_{tag}",))


def _down() -> AlertmanagerClient:
    return AlertmanagerClient(f"http://127.0.0.1:{_free_port()}", timeout=0.5, retries=0)


def _outbox_down():
    raise psycopg.OperationalError("warehouse unreachable (test)")


def test_sent_means_alertmanager_has_it(client, outbox):
    connect, rows = outbox
    tag = uuid.uuid4().hex[:8]
    assert notify([_alert(tag)], client=client, connect_outbox=connect) == "sent"
    assert [a["labels"]["dag_id"] for a in client.active_alerts({"dag_id": f"notify_{tag}"})] == [f"notify_{tag}"]
    assert rows(tag) == []
    assert notify([_alert(tag)], resolve=True, client=client, connect_outbox=connect) == "sent"
    assert client.active_alerts({"dag_id": f"notify_{tag}"}) == []


def test_queued_means_the_outbox_has_it(outbox):
    connect, rows = outbox
    tag = uuid.uuid4().hex[:8]
    assert notify([_alert(tag)], client=_down(), connect_outbox=connect) == "queued"
    ((action, error),) = rows(tag)
    assert action == "fire" and "127.0.0.1" in error


def test_a_missing_alertmanager_connection_still_queues(outbox, monkeypatch):
    connect, rows = outbox
    tag = uuid.uuid4().hex[:8]
    monkeypatch.delenv("AIRFLOW_CONN_ALERTMANAGER", raising=False)
    assert notify([_alert(tag)], connect_outbox=connect) == "queued"
    ((_, error),) = rows(tag)
    assert "alertmanager" in error


def test_no_outbox_still_sends_directly(client):
    tag = uuid.uuid4().hex[:8]
    assert notify([_alert(tag)], client=client, connect_outbox=_outbox_down) == "sent"
    assert client.active_alerts({"dag_id": f"notify_{tag}"})
    notify([_alert(tag)], resolve=True, client=client, connect_outbox=_outbox_down)


def test_delivered_nowhere_raises_and_logs_the_payload(caplog):
    tag = uuid.uuid4().hex[:8]
    with caplog.at_level(logging.CRITICAL), pytest.raises(AlertDeliveryError, match="TaskFailed") as lost:
        notify([_alert(tag)], client=_down(), connect_outbox=_outbox_down)
    assert "warehouse unreachable (test)" in str(lost.value)
    assert f"notify_{tag}" in caplog.text  # the payload is in the log: nothing disappears silently


def test_outbox_write_failing_after_alertmanager_failed_raises(topology):
    """The outbox connection opens but its writes fail (a role without INSERT): reported, not swallowed."""
    tag = uuid.uuid4().hex[:8]

    def analytics():  # analytics_user may not write ops.alert_outbox
        return psycopg.connect(topology.dsn("warehouse", "data_warehouse", "analytics_user"), autocommit=True)

    with pytest.raises(AlertDeliveryError, match="outbox write failed"):
        notify([_alert(tag)], client=_down(), connect_outbox=analytics)
