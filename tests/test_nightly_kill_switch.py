"""During an engaged kill switch the nightly dbt tests do not page as test failures: they report the
kill switch (issue 10 §3). Real warehouse, real Alertmanager, the real DAG under dag.test()."""

from __future__ import annotations

import uuid

import pytest

from dataacuity import dbt
from tests.conftest import REPO, superuser_connect


@pytest.fixture
def am_env(alertmanager, topology, monkeypatch, webhook):
    monkeypatch.setenv("AIRFLOW_CONN_ALERTMANAGER", alertmanager)
    with webhook.cond:
        webhook.payloads.clear()
    return alertmanager


def _set_engaged(engaged: bool) -> None:
    with superuser_connect("warehouse", "data_warehouse") as su:
        su.execute(
            "SELECT ops.kill_switch_revoke_write_paths()" if engaged else "SELECT ops.kill_switch_restore_write_paths()"
        )
        su.execute(
            "UPDATE ops.kill_switch SET engaged = %s, changed_at = now(), changed_by = 'nightly-test', reason = %s",
            (engaged, "nightly kill switch test: PII found in raw" if engaged else "nightly kill switch test done"),
        )


@pytest.fixture
def engaged(am_env, client):
    from dataacuity import kill_switch as ks
    from dataacuity.alerting import Alert

    _set_engaged(True)
    yield
    _set_engaged(False)
    client.resolve([Alert(labels=dict(ks.ALERT_LABELS), annotations={"summary": "nightly kill switch test teardown"})])


class TI:
    dag_id, task_id, run_id, log_url, try_number = "nightly_dbt_tests", "dbt_test_full", "scheduled__x", "", 2


def test_nightly_run_is_skipped_with_the_kill_switch_and_pages_no_test_failure(engaged, airflow_db, webhook):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags" / "nightly_dbt_tests.py")).dags["nightly_dbt_tests"]
    run = dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"kill_switch_gate": "skipped", "dbt_test_full": "skipped"}
    (page,) = webhook.wait("/pager", alertname="KillSwitchEngaged")
    assert "nightly kill switch test: PII found in raw" in page["annotations"]["summary"]
    assert not webhook.alerts(alertname="DbtNightlyTestsFailed")
    assert not webhook.alerts(alertname="TaskFailed")


def test_a_dbt_failure_while_engaged_reports_the_kill_switch_not_the_tests(engaged, webhook, client):
    dbt.nightly_tests_failure_callback(
        {"task_instance": TI(), "exception": RuntimeError("permission denied to set role")}
    )
    assert client.active_alerts({"alertname": "KillSwitchEngaged"})
    assert not webhook.alerts(alertname="DbtNightlyTestsFailed")
    assert not webhook.alerts(alertname="TaskFailed")


def test_a_dbt_failure_without_the_kill_switch_still_pages(am_env, webhook, client):
    # Its own dag_id: the session's Alertmanager may already hold (and have notified) a page of the
    # same label set from another test, which it would not notify again within repeat_interval.
    ti = TI()
    ti.dag_id = f"nightly_dbt_tests_{uuid.uuid4().hex[:8]}"
    dbt.nightly_tests_failure_callback({"task_instance": ti, "exception": RuntimeError("3 tests failed")})
    (page,) = webhook.wait("/pager", alertname="DbtNightlyTestsFailed", dag_id=ti.dag_id)
    assert "3 tests failed" in page["annotations"]["description"]
    # the TaskFailed P2 is sent too (inhibited by the P1 on the same dag_id)
    assert client.active_alerts({"alertname": "TaskFailed", "dag_id": ti.dag_id})
