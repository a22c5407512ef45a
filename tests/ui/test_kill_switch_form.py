"""The kill_switch DAG driven from its trigger form in the real Airflow UI (headless chromium).

The right phrase engages the switch for real (the database revokes the writer roles, the P1 page
reaches the pager webhook, the compliance log records the user who pressed Trigger) and the form
releases it again; a wrong phrase never gets past the form, and the other action's phrase gets
past the form's pattern but fails the run before anything changes.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from dataacuity import kill_switch as ks
from dataacuity.alerting import Alert
from tests.conftest import superuser_connect
from tests.test_kill_switch import _force_release

pytestmark = pytest.mark.airflow_dags("kill_switch")


@pytest.fixture(autouse=True)
def released(topology, client, webhook):
    """Start and end released (superuser SQL, even if release itself is broken); empty inbox."""
    _force_release(client)
    with webhook.cond:
        webhook.payloads.clear()
    yield
    _force_release(client)


def state(topology) -> ks.KillSwitchStatus:
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse", "warehouse_admin")) as conn:
        return ks.status(conn)


def incidents(tag: str) -> list[tuple[str, str]]:
    with superuser_connect("compliance", "compliance") as conn:
        rows = conn.execute(
            "SELECT kind, actor FROM compliance.incident_log WHERE summary LIKE %s ORDER BY incident_id",
            (f"%{tag}%",),
        ).fetchall()
    return [tuple(row) for row in rows]


def test_engage_then_release_from_the_trigger_form(topology, airflow_ui, ui_page, webhook):
    tag = uuid.uuid4().hex[:8]

    airflow_ui.open_trigger_form(ui_page, "kill_switch")
    airflow_ui.fill_params(
        ui_page, action="engage", reason=f"UI form test {tag}: PII in raw", confirm=ks.CONFIRMATIONS["engage"]
    )
    assert airflow_ui.params_error(ui_page) == ""
    run_id = airflow_ui.submit_trigger(ui_page, "kill_switch")
    assert airflow_ui.wait_for_run("kill_switch", run_id) == "success"

    engaged = state(topology)
    assert engaged.engaged and engaged.writes_revoked
    assert engaged.changed_by == airflow_ui.username  # the user who pressed Trigger
    (page,) = webhook.wait("/pager", alertname=ks.ALERTNAME)
    assert tag in page["annotations"]["description"] or tag in page["annotations"]["summary"]
    assert incidents(tag) == [(ks.INCIDENT_KINDS["engage"], airflow_ui.username)]

    airflow_ui.open_trigger_form(ui_page, "kill_switch")
    airflow_ui.fill_params(
        ui_page, action="release", reason=f"UI form test {tag}: re-landed", confirm=ks.CONFIRMATIONS["release"]
    )
    run_id = airflow_ui.submit_trigger(ui_page, "kill_switch")
    assert airflow_ui.wait_for_run("kill_switch", run_id) == "success"
    released = state(topology)
    assert not released.engaged and released.writes_allowed
    webhook.wait("/pager", status="resolved", alertname=ks.ALERTNAME)
    assert [kind for kind, _ in incidents(tag)] == [ks.INCIDENT_KINDS["engage"], ks.INCIDENT_KINDS["release"]]


def test_a_wrong_phrase_is_refused_by_the_form(topology, airflow_ui, ui_page):
    airflow_ui.open_trigger_form(ui_page, "kill_switch")
    airflow_ui.fill_params(ui_page, action="engage", reason="UI form test: too short phrase")
    assert not airflow_ui.trigger_enabled(ui_page)  # a required field is still empty

    airflow_ui.fill_params(ui_page, confirm="STOP ALL WAREHOUSE WRITE")
    error = airflow_ui.submit_trigger_refused(ui_page, "kill_switch")
    assert "Invalid input for param confirm" in error
    assert not state(topology).engaged


def test_the_other_actions_phrase_fails_the_run_before_anything_changes(topology, airflow_ui, ui_page, webhook, client):
    tag = uuid.uuid4().hex[:8]
    airflow_ui.open_trigger_form(ui_page, "kill_switch")
    # The form's pattern accepts either phrase; the task checks the phrase belongs to the action.
    airflow_ui.fill_params(
        ui_page, action="engage", reason=f"UI form test {tag}: mixed up", confirm=ks.CONFIRMATIONS["release"]
    )
    run_id = airflow_ui.submit_trigger(ui_page, "kill_switch")
    assert airflow_ui.wait_for_run("kill_switch", run_id) == "failed"
    (apply,) = airflow_ui.task_instances("kill_switch", run_id)
    assert apply["state"] == "failed" and apply["try_number"] == 1  # refused at once, no retries

    after = state(topology)
    assert not after.engaged and after.writes_allowed
    assert incidents(tag) == []
    # Absence proven against a positive control: a marker page sent now arrives, the switch's never did.
    marker = Alert(labels={"alertname": f"UiFormMarker{tag}", "severity": "P1"}, annotations={"summary": "marker"})
    client.fire([marker])
    webhook.wait("/pager", alertname=marker.alertname)
    assert not webhook.alerts("/pager", alertname=ks.ALERTNAME)
    client.resolve([marker])
