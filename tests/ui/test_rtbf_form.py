"""rtbf_cascade's trigger form through the real Airflow UI (headless chromium): a request filed in
the form is cascaded, verified and closed; a malformed user id is refused by the server-side Param
check before any run exists."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import superuser_connect

pytestmark = pytest.mark.airflow_dags("rtbf_cascade")


def request_status(request_id: str):
    with superuser_connect("compliance", "compliance") as conn:
        row = conn.execute("SELECT status FROM compliance.rtbf_request WHERE request_id = %s", (request_id,)).fetchone()
    return row[0] if row else None


def test_a_request_filed_in_the_form_is_cascaded_and_closed(topology, airflow_ui, ui_page):
    request_id = f"DSAR-UI-{uuid.uuid4().hex[:8].upper()}"
    user_id = str(random.randrange(9_100_000_000, 9_200_000_000))  # a user with no rows: a quick cascade
    requested_at = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    airflow_ui.open_trigger_form(ui_page, "rtbf_cascade")
    airflow_ui.fill_params(ui_page, user_id=user_id, request_id=request_id, requested_by="compliance officer (UI test)")
    airflow_ui.fill_params(ui_page, requested_at=requested_at)
    run_id = airflow_ui.submit_trigger(ui_page, "rtbf_cascade")
    assert airflow_ui.wait_for_run("rtbf_cascade", run_id) == "success"
    states = {t["task_id"]: t["state"] for t in airflow_ui.task_instances("rtbf_cascade", run_id)}
    assert states["register"] == states["cascade"] == states["verify"] == states["close"] == "success"
    assert request_status(request_id) == "closed"


def test_a_malformed_user_id_is_refused_by_the_form(topology, airflow_ui, ui_page):
    request_id = f"DSAR-UI-{uuid.uuid4().hex[:8].upper()}"
    airflow_ui.open_trigger_form(ui_page, "rtbf_cascade")
    airflow_ui.fill_params(ui_page, user_id="thabo@example.co.za", request_id=request_id, requested_by="UI test")
    error = airflow_ui.submit_trigger_refused(ui_page, "rtbf_cascade")
    assert "Invalid input for param user_id" in error
    assert request_status(request_id) is None
