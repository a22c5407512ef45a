"""Credentials (issue 10 §1): every Airflow service gets only the connections it needs, the compliance
and admin credentials are not in every container's environment, and the standby's replication
password is not stored in plain text in its data directory."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest
import yaml

from tools import topology

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.airflow.yml"
# compose service -> tools/topology.py AIRFLOW_SERVICE_CONNECTIONS key
COMPOSE_SERVICES = {
    "airflow-init": "api-server",
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "worker",
    "airflow-worker-compliance": "compliance-worker",
}
PRIVILEGED = {"compliance_118", "compliance_user_118", "warehouse_admin", "primary_104"}
COMPLIANCE_DAGS = {"kill_switch", "foundation_audit", "salt_rotation", "rtbf_cascade", "legal_hold", "retention"}


def _conn_ids(env: dict) -> set[str]:
    return {k.removeprefix("AIRFLOW_CONN_").lower() for k in env if k.startswith("AIRFLOW_CONN_")}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_compose_airflow_service_gets_exactly_its_connections(services):
    airflow_services = {name for name in services if name.startswith("airflow-") and name != "airflow-metadata"}
    assert airflow_services == set(COMPOSE_SERVICES), "a new Airflow service needs its row in COMPOSE_SERVICES"
    for name, key in COMPOSE_SERVICES.items():
        got = _conn_ids(services[name].get("environment") or {})
        assert got == set(topology.AIRFLOW_SERVICE_CONNECTIONS[key]), name


def test_privileged_credentials_live_in_the_compliance_worker_only(services):
    holders = {
        name: _conn_ids(service.get("environment") or {}) & PRIVILEGED
        for name, service in services.items()
        if _conn_ids(service.get("environment") or {}) & PRIVILEGED
    }
    assert holders == {"airflow-worker-compliance": PRIVILEGED - {"primary_104"}}
    assert "--queues compliance" in services["airflow-worker-compliance"]["command"]
    assert "--queues default" in services["airflow-worker"]["command"]
    # no database password reaches a non-worker Airflow container by any other variable either
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        env = services[name]["environment"]
        leaked = [k for k in env if k.endswith("_PASSWORD") or "COMPLIANCE" in k or "ADMIN_PASSWORD" in k]
        assert leaked == [], name


def test_dags_needing_privileged_credentials_run_on_the_compliance_queue(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from dataacuity.dag_defaults import COMPLIANCE_QUEUE

    dags = DagBag(dag_folder=str(REPO / "dags")).dags
    assert {"kill_switch", "foundation_audit"} <= set(dags)
    for dag_id, dag in dags.items():
        queues = {task.queue for task in dag.tasks}
        if dag_id in COMPLIANCE_DAGS:
            assert queues == {COMPLIANCE_QUEUE}, dag_id
        else:
            assert COMPLIANCE_QUEUE not in queues, f"{dag_id} would run with the compliance credentials"


def test_local_airflow_components_get_only_their_connections(security_topology):
    from tools import airflow_local

    everything = topology.connection_env()
    for component, (_, key) in airflow_local.COMPONENTS.items():
        env = airflow_local.component_env(component, base={"PATH": "/usr/bin", **everything})
        assert _conn_ids(env) == set(topology.AIRFLOW_SERVICE_CONNECTIONS[key]), component
    assert _conn_ids(airflow_local.component_env("api-server", base=everything)) == set()
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nairflow:", 1)[1].split("\n\n", 1)[0]
    assert "tools.airflow_local" in recipe and "standalone" not in recipe.replace("`airflow standalone`", "")


def test_standby_replication_password_is_not_in_its_data_directory(security_topology):
    password = topology.load_secrets()["replicator"]
    data = topology._data_dir("replica")
    for path in data.iterdir():  # the configuration files pg_basebackup -R writes
        if path.is_file():
            assert password.encode() not in path.read_bytes(), f"replication password in {path}"
    auto_conf = (data / "postgresql.auto.conf").read_text()
    assert "password=" not in auto_conf and "passfile=" in auto_conf
    passfile = topology.replication_passfile()
    assert data not in passfile.parents, "the passfile must live outside the data directory"
    stat = passfile.stat()
    assert stat.st_mode & 0o077 == 0, oct(stat.st_mode)
    if os.geteuid() == 0:
        assert stat.st_uid == pwd.getpwnam("postgres").pw_uid
    # and the standby really streams with it
    with topology._connect("replica", "postgres") as conn:
        status, conninfo = conn.execute("SELECT status, conninfo FROM pg_stat_wal_receiver").fetchone()
    assert status == "streaming" and "passfile=" in conninfo and password not in conninfo


def test_compose_standby_keeps_its_password_in_a_passfile_outside_pgdata(services):
    script = " ".join(services["replica"]["entrypoint"]).replace("$$", "$")
    assert "/var/lib/postgresql/credentials/replication.pgpass" in script
    assert "sed -i '/^primary_conninfo/d'" in script and "passfile=" in script
    assert "replica-credentials:/var/lib/postgresql/credentials" in services["replica"]["volumes"]
