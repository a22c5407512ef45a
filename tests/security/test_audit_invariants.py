"""The foundation audit carries the invariants the adversarial suite relies on (issue 10): drift made
by hand in the catalog (as a careless or hostile superuser would) fails the audit, naming what broke."""

from __future__ import annotations

import pytest

from tests.security.conftest import superuser


@pytest.fixture
def audit_env(security_topology, monkeypatch):
    for key, value in security_topology.connection_env().items():
        monkeypatch.setenv(key, value)
    from dataacuity import audit

    return audit


def failures(audit) -> dict[str, str]:
    return {r.check: r.detail for r in audit.check_invariants() if not r.passed}


def test_invariants_hold_on_the_local_topology(audit_env):
    results = audit_env.check_invariants()
    assert len(results) >= 10
    assert failures(audit_env) == {}


def test_a_dangerous_membership_or_createrole_is_named(audit_env):
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("GRANT pg_read_all_data TO analytics_user")
        su.execute("ALTER ROLE warehouse_admin CREATEROLE")
        try:
            failed = failures(audit_env)
        finally:
            su.execute("REVOKE pg_read_all_data FROM analytics_user")
            su.execute("ALTER ROLE warehouse_admin NOCREATEROLE")
    assert "analytics_user in pg_read_all_data" in failed["warehouse: no members of dangerous predefined roles"]
    assert "warehouse_admin" in failed["warehouse: no unexpected CREATEROLE"]
    assert failures(audit_env) == {}


def test_writer_owned_definer_code_and_public_execute_are_named(audit_env):
    fence = "warehouse: writer fence (no writer-owned SECURITY DEFINER, no delegated writes)"
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("ALTER EVENT TRIGGER writer_fence DISABLE")  # drift: someone switched the fence off
        try:
            su.execute(
                "CREATE FUNCTION marts.audit_plant() RETURNS int LANGUAGE sql SECURITY DEFINER AS $$ SELECT 1 $$"
            )
            su.execute("ALTER FUNCTION marts.audit_plant() OWNER TO dbt_writer")
            su.execute("GRANT EXECUTE ON FUNCTION marts.audit_plant() TO PUBLIC")
            failed = failures(audit_env)
        finally:
            su.execute("DROP FUNCTION IF EXISTS marts.audit_plant()")
            su.execute("ALTER EVENT TRIGGER writer_fence ENABLE")
    assert "security_definer_owned_by_writer: marts.audit_plant()" in failed[fence]
    assert "event_trigger_missing_or_disabled" in failed[fence]
    assert (
        "marts.audit_plant() (owner dbt_writer)" in failed["warehouse: no PUBLIC EXECUTE on SECURITY DEFINER functions"]
    )
    assert failures(audit_env) == {}
