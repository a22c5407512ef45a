"""Role-connection fixtures for the adversarial suite (tests/security/): log in AS a role, the way an
attacker holding that role's credentials would. Shared by every tests/security/ file; keep it small."""

from __future__ import annotations

import contextlib

import psycopg
import pytest
from psycopg import sql

from tools import topology as _topology

# Every login role of the topology, with the database it works in (issue 10: one adversarial test
# per login role). {app}_app_reader roles are added per app from the registry. Roles that appear
# on main later (e.g. a new writer) go here.
LOGIN_ROLES: dict[str, tuple[str, str]] = {
    "etl_user": ("warehouse", "data_warehouse"),
    "dbt_runner": ("warehouse", "data_warehouse"),
    "analytics_user": ("warehouse", "data_warehouse"),
    "pipeline_monitor": ("warehouse", "data_warehouse"),
    "warehouse_admin": ("warehouse", "data_warehouse"),
    "compliance_admin": ("compliance", "compliance"),
    "compliance_user": ("compliance", "compliance"),
    "pushback_writer": ("primary", "analytics_db"),
    "etl_reader": ("primary", "postgres"),  # tried on the primary: worse than the standby
    "replicator": ("primary", "postgres"),
}
WAREHOUSE_LOGINS = tuple(role for role, (cluster, _) in LOGIN_ROLES.items() if cluster == "warehouse")
WRITER_LOGINS = {"etl_user": "etl_writer", "dbt_runner": "dbt_writer"}  # login -> group it writes through


def app_readers() -> list[str]:
    from dataacuity.registry import load_registry

    return [f"{app}_app_reader" for app in sorted(load_registry().apps)]


@contextlib.contextmanager
def connect_as(role: str, cluster: str | None = None, dbname: str | None = None, **kwargs):
    """A session whose session_user and current_user are `role`. Roles with a password log in for real;
    roles without one (the app readers) get SET SESSION AUTHORIZATION from a superuser session."""
    cluster, dbname = (cluster, dbname) if cluster else LOGIN_ROLES.get(role, ("primary", "analytics_db"))
    kwargs.setdefault("autocommit", True)
    if role in _topology.load_secrets():
        conn = psycopg.connect(_topology.dsn(cluster, dbname, role), **kwargs)
    else:
        conn = psycopg.connect(_topology.dsn(cluster, dbname), **kwargs)
        conn.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(role)))
    with conn:
        yield conn


def superuser(cluster: str, dbname: str):
    return psycopg.connect(_topology.dsn(cluster, dbname), autocommit=True)


@pytest.fixture(scope="session")
def security_topology(topology):
    """The topology (up, migrations applied) for the adversarial suite."""
    return topology


@pytest.fixture
def kill_switch_engaged(security_topology):
    """The kill switch engaged the way kill_switch.engage does it in the database (warehouse_admin calls
    the fenced revoke function), released again afterwards whatever the test did."""
    with connect_as("warehouse_admin") as admin:
        admin.execute("SELECT ops.kill_switch_revoke_write_paths()")
    try:
        yield
    finally:
        with superuser("warehouse", "data_warehouse") as su:
            su.execute("SELECT ops.kill_switch_restore_write_paths()")
