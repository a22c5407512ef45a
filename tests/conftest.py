"""Session fixtures: the real local topology (PostgreSQL clusters, hot standby, Alertmanager) and
an Airflow home with a migrated metadata DB. Nothing here mocks a database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at import time: set it before anything imports airflow.
os.environ.setdefault("AIRFLOW_HOME", str(REPO / ".local" / "airflow-test"))
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"  # as deployed (docker-compose.airflow.yml)
os.environ["AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY"] = "False"  # as deployed (Makefile, compose)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
# dag.test() in Airflow 3.3.2 crashes at the end of a DAG that has a deadline (apache/airflow#73428):
# DAGs are built without one here; tests/test_oncall_alerts.py checks the deadline wiring itself.
os.environ["DATAACUITY_DEADLINES"] = "off"

from tools import topology as _topology  # noqa: E402

# Real Alertmanager + webhook receiver fixtures: webhook, local_config, alertmanager, client.
pytest_plugins = ["tests.alerting_support"]


@pytest.fixture(scope="session")
def topology():
    """The four clusters + Alertmanager, up (idempotent), with AIRFLOW_CONN_* exported."""
    _topology.up()
    os.environ.update(_topology.connection_env())
    return _topology


@pytest.fixture(scope="session")
def registry():
    from dataacuity.registry import load_registry

    return load_registry()


@pytest.fixture(scope="session")
def seeded_sources(topology, registry):
    """Source schemas applied and demo-scale synthetic data in every source DB on the primary."""
    from tools import seed

    def dsn_for_db(db: str) -> str:
        return topology.dsn("primary", db)

    seed.apply_source_schemas(dsn_for_db, registry)
    counts = seed.seed(dsn_for_db, registry, scale=1, seed=42)
    topology.wait_for_replica()
    return counts


@pytest.fixture(scope="session")
def airflow_db(topology):
    """A migrated Airflow metadata DB (SQLite) for dag.test()."""
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    if not marker.exists():
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            env=os.environ.copy(),
        )
        marker.touch()
    return home


def superuser_connect(cluster: str, dbname: str, **kwargs):
    import psycopg

    return psycopg.connect(_topology.dsn(cluster, dbname), autocommit=True, **kwargs)


# What the extract writes per source besides raw (a lab's rows of each are removed with the lab).
EXTRACT_BOOKKEEPING = ("extract_watermark", "extract_batch", "extract_open_xact", "reconcile_result")


def drop_lab_source(lab_db: str) -> None:
    """Everything a test's throwaway source database put on the topology: the database on the
    primary, its raw.{lab_db}__* tables and its extract bookkeeping (etl.*) on the warehouse.

    Lab fixtures call it before they build the lab and again at teardown: nothing of a lab outlives
    its module. The RTBF zero-residual scan reads every table of every schema, and a lab table whose
    small user ids collide with real users' fails it (tests/test_rtbf.py)."""
    from psycopg import sql

    with superuser_connect("primary", "postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(lab_db)))
    with superuser_connect("warehouse", "data_warehouse") as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'raw' AND starts_with(tablename, %s)",
            (f"{lab_db}__",),
        ).fetchall()
        for (table,) in tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier("raw", table)))
        for bookkeeping in EXTRACT_BOOKKEEPING:
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE source_db = %s").format(sql.Identifier("etl", bookkeeping)), (lab_db,)
            )


@pytest.fixture
def warehouse_su(topology):
    with superuser_connect("warehouse", "data_warehouse") as conn:
        yield conn


@pytest.fixture(scope="session")
def warehouse_superuser_dsn(topology):
    return topology.dsn("warehouse", "data_warehouse")


def expected_hash(family: str, normalised_value: str) -> str:
    """Independent oracle for compliance.hash_*: Python's HMAC-SHA256 keyed with the family's active
    salt, read over a test-only superuser connection to .118 (no pipeline role can read it)."""
    import hashlib
    import hmac

    with superuser_connect("compliance", "compliance") as conn:
        row = conn.execute(
            "SELECT salt FROM compliance.salts WHERE salt_family = %s AND NOT is_retired", (family,)
        ).fetchone()
    assert row, f"no active {family} salt on .118"
    return hmac.new(bytes(row[0]), normalised_value.encode("utf-8"), hashlib.sha256).hexdigest()
