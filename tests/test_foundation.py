"""The local topology and the role model: real clusters, real logins, real denials."""

from __future__ import annotations

import socket
import subprocess
import sys

import psycopg
import pytest
from psycopg import errors

from tests.conftest import REPO, superuser_connect


def login(topology, cluster: str, dbname: str, role: str) -> psycopg.Connection:
    return psycopg.connect(topology.dsn(cluster, dbname, role), autocommit=True)


def test_replica_is_a_streaming_hot_standby_of_the_primary(topology):
    with superuser_connect("replica", "postgres") as replica:
        assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
    with superuser_connect("primary", "postgres") as primary:
        senders = primary.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'").fetchone()[0]
        assert senders == 1
        primary.execute("DROP TABLE IF EXISTS replication_probe")
        primary.execute("CREATE TABLE replication_probe AS SELECT 42 AS answer")
    topology.wait_for_replica()
    with superuser_connect("replica", "postgres") as replica:
        assert replica.execute("SELECT answer FROM replication_probe").fetchone()[0] == 42
        with pytest.raises(errors.ReadOnlySqlTransaction):
            replica.execute("INSERT INTO replication_probe VALUES (1)")


def test_second_up_changes_nothing(topology):
    with superuser_connect("warehouse", "data_warehouse") as conn:
        before = conn.execute("SELECT count(*), max(applied_at) FROM public.schema_migrations").fetchone()
    topology.up()
    with superuser_connect("warehouse", "data_warehouse") as conn:
        assert conn.execute("SELECT count(*), max(applied_at) FROM public.schema_migrations").fetchone() == before
    assert [row[3] for row in topology.status()] == ["running"] * 4


def test_editing_an_applied_migration_is_refused(topology, tmp_path):
    from tools import migrations

    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_probe.sql").write_text("CREATE TABLE IF NOT EXISTS migration_probe (id int);")
    with superuser_connect("warehouse", "postgres") as conn:
        conn.execute("DROP TABLE IF EXISTS public.schema_migrations, migration_probe")
        assert migrations.apply_migrations(conn, folder) == ["0001_probe.sql"]
        assert migrations.apply_migrations(conn, folder) == []
        (folder / "0001_probe.sql").write_text("DROP TABLE migration_probe;")
        with pytest.raises(migrations.MigrationError, match="0001_probe.sql: already applied.*forward-only"):
            migrations.apply_migrations(conn, folder)
        conn.execute("DROP TABLE public.schema_migrations, migration_probe")


def test_port_in_use_is_named_with_the_fix(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        base = busy - 104
        env = {"DA_STATE_DIR": str(tmp_path / "state"), "DA_PORT_BASE": str(base), "PATH": "/usr/bin:/bin"}
        tmp_path.chmod(0o755)
        result = subprocess.run(
            [sys.executable, "-m", "tools.topology", "up"], cwd=REPO, env=env, capture_output=True, text=True
        )
    subprocess.run([sys.executable, "-m", "tools.topology", "destroy"], cwd=REPO, env=env, capture_output=True)
    assert result.returncode == 1
    assert f"port {busy}" in result.stderr and "DA_PORT_BASE" in result.stderr


def test_missing_postgresql_binaries_name_the_package(monkeypatch):
    from tools import topology

    monkeypatch.setattr(topology, "PG_BINDIR_CANDIDATES", ("/nonexistent/bin",))
    monkeypatch.setattr(topology.shutil, "which", lambda name: None)
    with pytest.raises(topology.TopologyError, match="apt-get install -y postgresql-15"):
        topology.pg_bindir()


# ------------------------------------------------------------------ roles: grants and denials


@pytest.fixture(scope="module")
def probe_tables(topology):
    """One table in each warehouse layer, created by the role that owns the layer."""
    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("SET ROLE etl_writer")
        conn.execute("CREATE TABLE IF NOT EXISTS raw.role_probe AS SELECT 1 AS x")
        conn.execute("SET ROLE dbt_writer")
        for schema in ("staging", "intermediate", "marts"):
            conn.execute(f"CREATE TABLE IF NOT EXISTS {schema}.role_probe AS SELECT 1 AS x")
    yield
    with superuser_connect("warehouse", "data_warehouse") as conn:
        for schema in ("raw", "staging", "intermediate", "marts"):
            conn.execute(f"DROP TABLE IF EXISTS {schema}.role_probe")


def can_select(conn, table: str) -> bool:
    try:
        conn.execute(f"SELECT * FROM {table}").fetchall()
        return True
    except errors.InsufficientPrivilege:
        return False


def test_etl_user_writes_raw_and_reads_nothing_else(topology, probe_tables):
    with login(topology, "warehouse", "data_warehouse", "etl_user") as conn:
        assert not can_select(conn, "raw.role_probe")  # NOINHERIT: nothing without SET ROLE
        conn.execute("SET ROLE etl_writer")
        assert can_select(conn, "raw.role_probe")
        conn.execute("INSERT INTO raw.role_probe VALUES (2)")
        for schema in ("staging", "intermediate", "marts"):
            assert not can_select(conn, f"{schema}.role_probe"), schema
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE staging.sneaky (x int)")


def test_dbt_runner_reads_raw_and_writes_the_dbt_layers_only(topology, probe_tables):
    with login(topology, "warehouse", "data_warehouse", "dbt_runner") as conn:
        conn.execute("SET ROLE dbt_writer")
        assert can_select(conn, "raw.role_probe")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO raw.role_probe VALUES (3)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("UPDATE etl.extract_watermark SET cursor_value = now()")


def test_analytics_user_reads_marts_only(topology, probe_tables):
    with login(topology, "warehouse", "data_warehouse", "analytics_user") as conn:
        assert can_select(conn, "marts.role_probe")
        for table in ("raw.role_probe", "staging.role_probe", "intermediate.role_probe", "etl.extract_batch"):
            assert not can_select(conn, table), table


def test_each_app_reader_sees_its_own_schema_only(topology, registry):
    apps = list(registry.apps)
    mine, other = apps[0], apps[1]
    with superuser_connect("primary", "analytics_db") as conn:
        conn.execute("SET ROLE pushback_writer")
        for app in (mine, other):
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{app}".reader_probe AS SELECT 1 AS x')
        conn.execute("RESET ROLE")
        conn.execute(f'SET ROLE "{mine}_app_reader"')
        assert can_select(conn, f'"{mine}".reader_probe')
        assert not can_select(conn, f'"{other}".reader_probe')
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f'INSERT INTO "{mine}".reader_probe VALUES (2)')


def test_no_login_role_reads_salts(topology):
    # issue 8: the salts belong to the NOLOGIN key holder (tests/security/ attacks every route)
    with login(topology, "compliance", "compliance", "compliance_user") as conn:
        assert not can_select(conn, "compliance.salts")
        assert can_select(conn, "compliance.incident_log")
    with login(topology, "compliance", "compliance", "compliance_admin") as conn:
        assert not can_select(conn, "compliance.salts")


def test_etl_reader_reads_the_replica_and_writes_nowhere(topology):
    with superuser_connect("primary", "postgres") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.write_probe (x int)")
    with login(topology, "primary", "postgres", "etl_reader") as conn:
        assert can_select(conn, "public.write_probe")  # pg_read_all_data
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO public.write_probe VALUES (1)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.nope (x int)")


# ------------------------------------------------------------------ foundation audit


def test_foundation_audit_passes_on_the_local_topology(topology, registry):
    from dataacuity import audit

    results = (
        audit.check_connections()
        + audit.check_replica()
        + audit.check_compliance_schema()
        + audit.check_privileges(registry)
    )
    assert [r for r in results if not r.passed] == []
    assert len(results) > 30


def test_foundation_audit_fails_naming_a_broken_grant(topology, registry):
    from dataacuity import audit

    with superuser_connect("warehouse", "data_warehouse") as conn:
        conn.execute("GRANT USAGE ON SCHEMA raw TO analytics_user")
        try:
            results = audit.check_privileges(registry)
        finally:
            conn.execute("REVOKE USAGE ON SCHEMA raw FROM analytics_user")
    failed = [r.check for r in results if not r.passed]
    assert failed == ["analytics_user USAGE on schema raw"]
    with pytest.raises(audit.FoundationAuditFailed, match="analytics_user USAGE on schema raw"):
        audit.raise_on_failure(results)


def test_foundation_audit_dag_runs_green_under_dag_test(topology, airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags" / "foundation_audit.py")).dags["foundation_audit"]
    run = dag.test()
    assert run.state == "success"
    # the daily run carries the adversarial suite's invariants (issue 10), not only the Phase 0 checks
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states.get("invariants") == "success", states
