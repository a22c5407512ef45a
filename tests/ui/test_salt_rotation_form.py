"""The salt_rotation DAG driven from its trigger form in the real Airflow UI (headless chromium).

The right phrase runs a real rotation through the scheduler (family `ip`: a new key generated on
.118, the derived schemas rebuilt under it and swapped, the old key retired and destroyed); a wrong
phrase is refused by the form's server-side check and nothing changes on either host."""

from __future__ import annotations

import uuid

import pytest

from dataacuity import rotation
from tests.security import support
from tests.test_salt_rotation import CONF, state_snapshot
from tools import key_link

pytestmark = pytest.mark.airflow_dags("salt_rotation")


@pytest.fixture(scope="module")
def linked(topology):
    key_link.ensure_local_key_link()


def active_generation(topology, family: str) -> tuple[int, str]:
    with support.connect(topology, "compliance") as conn:
        return conn.execute(
            "SELECT salt_id, fingerprint FROM compliance.salt_status WHERE salt_family = %s AND status = 'active'",
            (family,),
        ).fetchone()


def test_a_wrong_phrase_is_refused_by_the_form(topology, linked, airflow_ui, ui_page):
    before = state_snapshot(topology)
    airflow_ui.open_trigger_form(ui_page, "salt_rotation")
    airflow_ui.fill_params(ui_page, family="ip", reason="UI form test: wrong phrase", requested_by="ui-test")
    assert not airflow_ui.trigger_enabled(ui_page)  # the confirmation is still empty
    airflow_ui.fill_params(ui_page, confirm="ROTATE SALT")
    error = airflow_ui.submit_trigger_refused(ui_page, "salt_rotation")
    assert "Invalid input for param confirm" in error
    assert state_snapshot(topology) == before


def abandon_open_rotations() -> None:
    """A rotation left open by an earlier failed run would be resumed (with its own reason): start clean."""
    connectors = rotation.Connectors.from_airflow()
    with connectors.compliance() as conn:
        open_ids = [
            r[0] for r in conn.execute("SELECT rotation_id FROM compliance.key_rotation WHERE status = 'building'")
        ]
    for rotation_id in open_ids:
        current = rotation.get_rotation(rotation_id, connect_compliance=connectors.compliance)
        rotation.abandon(
            current,
            "UI test: start clean",
            connect_compliance=connectors.compliance,
            connect_admin=connectors.admin,
            connect_dbt=connectors.dbt,
        )


def test_the_right_phrase_rotates(topology, linked, airflow_ui, ui_page):
    tag = uuid.uuid4().hex[:8]
    abandon_open_rotations()
    old_id, old_fingerprint = active_generation(topology, "ip")
    airflow_ui.open_trigger_form(ui_page, "salt_rotation")
    airflow_ui.fill_params(
        ui_page, family="ip", reason=f"UI form test {tag}: rotation", requested_by="ui-test", confirm=CONF["confirm"]
    )
    assert airflow_ui.params_error(ui_page) == ""
    run_id = airflow_ui.submit_trigger(ui_page, "salt_rotation")
    assert airflow_ui.wait_for_run("salt_rotation", run_id, timeout=900) == "success"

    new_id, new_fingerprint = active_generation(topology, "ip")
    assert new_id != old_id and new_fingerprint != old_fingerprint
    with support.connect(topology, "compliance") as c118, support.connect(topology, "warehouse") as c106:
        row = c118.execute(
            "SELECT status, requested_by, run_id, retired_salt_ids FROM compliance.key_rotation WHERE reason LIKE %s",
            (f"%{tag}%",),
        ).fetchone()
        destroyed = c118.execute("SELECT salt IS NULL FROM compliance.salts WHERE salt_id = %s", (old_id,)).fetchone()[
            0
        ]
        copy = c106.execute(
            "SELECT salt_id, fingerprint FROM compliance.hash_key_status WHERE salt_family = 'ip' AND status = 'active'"
        ).fetchone()
        assert not rotation.rotation_in_progress(c106)
    assert row == ("completed", "ui-test", run_id, [old_id])
    assert destroyed and copy == (new_id, new_fingerprint)
