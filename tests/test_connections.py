"""The one connection layer (dataacuity.connections) honours every extra of an Airflow connection,
against the real warehouse cluster: what the server sees (pg_stat_activity, SHOW) is what the
connection's extra asks for, and an sslmode the local server cannot satisfy is refused.

The connections are given as Airflow gives them to a task: AIRFLOW_CONN_<ID> variables, in the
JSON form (extra as an object) and the URI form (extra in the query string)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from dataacuity import connections, dbt_runner
from tests.conftest import REPO, superuser_connect

CONN_ID = "arch_probe"


def _monitor_parts(topology) -> dict:
    parts = urlsplit(topology.dsn("warehouse", "data_warehouse", "pipeline_monitor"))
    return {
        "conn_type": "postgres",
        "host": parts.hostname,
        "port": parts.port,
        "login": parts.username,
        "password": topology.load_secrets()["pipeline_monitor"],
        "schema": "data_warehouse",
    }


@pytest.fixture
def airflow_conn(topology, monkeypatch):
    """Set AIRFLOW_CONN_ARCH_PROBE (JSON form) to pipeline_monitor on the warehouse with `extra`."""

    def define(extra: dict, conn_id: str = CONN_ID) -> str:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**_monitor_parts(topology), "extra": extra}))
        return conn_id

    return define


def _seen_by_server(application_name: str) -> list[tuple]:
    with superuser_connect("warehouse", "postgres") as su:
        return su.execute(
            "SELECT usename, datname, application_name FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()


def test_extras_reach_the_server(airflow_conn):
    name = f"arch-probe-{uuid.uuid4().hex[:8]}"
    conn_id = airflow_conn(
        {
            "application_name": name,
            "options": "-c search_path=ops -c statement_timeout=1234 -c lock_timeout=4321",
            "connect_timeout": 3,
            "sslmode": "disable",
        }
    )
    with connections.connect(conn_id) as conn:
        assert _seen_by_server(name) == [("pipeline_monitor", "data_warehouse", name)]
        assert conn.execute("SHOW search_path").fetchone()[0] == "ops"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == "4321ms"
        assert conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is False
        params = conn.info.get_parameters()
        assert params["connect_timeout"] == "3" and params["sslmode"] == "disable"
    assert _seen_by_server(name) == []  # closed


def test_sslmode_is_honoured_the_server_has_no_ssl(airflow_conn):
    """The local clusters run without SSL: `require` must fail, not silently connect in clear text."""
    conn_id = airflow_conn({"sslmode": "require"})
    with pytest.raises(psycopg.OperationalError, match="(?i)ssl"):
        connections.connect(conn_id)


def test_uri_form_extras_and_the_layers_defaults(topology, monkeypatch):
    parts = _monitor_parts(topology)
    name = f"arch-uri-{uuid.uuid4().hex[:8]}"
    options = quote("-c work_mem=7MB", safe="")
    monkeypatch.setenv(
        "AIRFLOW_CONN_ARCH_URI",
        f"postgres://{parts['login']}:{quote(parts['password'], safe='')}@{parts['host']}:{parts['port']}"
        f"/data_warehouse?application_name={name}&options={options}",
    )
    with connections.connect("arch_uri", autocommit=True) as conn:
        assert _seen_by_server(name)
        assert conn.execute("SHOW work_mem").fetchone()[0] == "7MB"
        assert conn.autocommit is True
    monkeypatch.setenv("AIRFLOW_CONN_ARCH_BARE", json.dumps(parts))
    with connections.connect("arch_bare") as conn:  # no extra: the layer's defaults
        assert conn.execute("SHOW application_name").fetchone()[0] == "dataacuity:arch_bare"
        assert conn.info.get_parameters()["connect_timeout"] == str(connections.CONNECT_TIMEOUT_S)
        assert conn.autocommit is False


def test_statement_timeout_cancels_a_runaway_query_and_the_extra_can_override_it(airflow_conn):
    conn_id = airflow_conn({})
    with connections.connect(conn_id, statement_timeout="200ms") as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "200ms"
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(5)")
    conn_id = airflow_conn({"options": "-c statement_timeout=9s"})
    with connections.connect(conn_id, statement_timeout="200ms") as conn:
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "9s"


def test_dbname_override_and_connector(airflow_conn):
    conn_id = airflow_conn({})
    with connections.connector(conn_id, dbname="postgres")() as conn:
        assert conn.execute("SELECT current_database(), current_user").fetchone() == ("postgres", "pipeline_monitor")


def test_dbt_profile_env_carries_the_extras_and_refuses_what_dbt_cannot_pass(airflow_conn):
    conn_id = airflow_conn({"sslmode": "require", "application_name": "dbt-probe", "connect_timeout": 4})
    env = dbt_runner.connection_env(conn_id)
    assert (env["DA_DBT_SSLMODE"], env["DA_DBT_APPLICATION_NAME"], env["DA_DBT_CONNECT_TIMEOUT"]) == (
        "require",
        "dbt-probe",
        "4",
    )
    assert env["DA_DBT_USER"] == "pipeline_monitor" and env["DA_DBT_DBNAME"] == "data_warehouse"
    conn_id = airflow_conn({"options": "-c search_path=ops"})
    with pytest.raises(ValueError, match="options"):
        dbt_runner.connection_env(conn_id)


def test_dbt_honours_sslmode_from_the_connection(airflow_conn):
    """dbt with the probe connection: sslmode=require fails against the no-SSL server."""
    conn_id = airflow_conn({"sslmode": "require"})
    result = dbt_runner.run_dbt(["show", "--inline", "select 1 as one"], conn_id=conn_id, timeout=300)
    assert not result.ok and "ssl" in result.output.lower()


def test_the_kill_switch_command_goes_through_the_layer(topology, monkeypatch):
    """The deployed console command reads the Airflow connection and honours its sslmode."""
    admin = urlsplit(topology.dsn("warehouse", "data_warehouse", "warehouse_admin"))
    env = {**os.environ, **topology.connection_env()}
    command = [str(REPO / ".venv" / "bin" / "dataacuity-kill-switch"), "status", "--json"]
    if not (REPO / ".venv" / "bin" / "dataacuity-kill-switch").exists():  # pragma: no cover - make venv installs it
        command = [sys.executable, "-m", "dataacuity.kill_switch_cli", "status", "--json"]
    ok = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert ok.returncode in (0, 3), ok.stderr
    assert json.loads(ok.stdout)["changed_by"]
    env["AIRFLOW_CONN_WAREHOUSE_ADMIN"] = admin._replace(query="sslmode=require").geturl()
    refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "ssl" in refused.stderr.lower()
