"""Privilege escalation, tried as every login role (issue 10 §1, security posture §8.4, DESIGN §6).

No role can make itself (or another role) a member of a role that reads keys, the vault or PII, of a
superuser-like predefined role, or create/alter roles: every route is tried for real and must fail.
The membership closure of every role is also read from the catalog, so a grant made by hand (drift)
fails here as well as in the foundation audit.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql

from tests.security.conftest import LOGIN_ROLES, WRITER_LOGINS, app_readers, connect_as, superuser

DANGEROUS_PREDEFINED = (
    "pg_execute_server_program",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_read_all_data",
    "pg_write_all_data",
)
# Per cluster: roles that read keys, the vault or PII, or write the warehouse (the kill switch's subject).
SENSITIVE = {
    "warehouse": ("compliance_keyholder", "write_path_admin", "etl_writer", "dbt_writer", "postgres"),
    "compliance": ("compliance_admin", "postgres"),
    "primary": ("app_writer", "pushback_writer", "postgres"),
}
# Members of a dangerous predefined role by design: etl_reader reads every source table (on the
# read-only standby only); app_writer stands in for the apps themselves on the local primary.
DESIGNED_MEMBERS = {
    ("etl_reader", "pg_read_all_data"),
    ("app_writer", "pg_read_all_data"),
    ("app_writer", "pg_write_all_data"),
}

ROLES = [*LOGIN_ROLES, "some_app_reader"]


def _resolve(role: str) -> str:
    return app_readers()[0] if role == "some_app_reader" else role


def _cluster(role: str) -> tuple[str, str]:
    return LOGIN_ROLES.get(role, ("primary", "analytics_db"))


def _another_login(role: str, cluster: str) -> str:
    return next(r for r, (c, _) in LOGIN_ROLES.items() if c == cluster and r != role)


def _refused(conn, statement: sql.Composable) -> bool:
    try:
        conn.execute(statement)
    except (errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction, errors.InvalidGrantOperation):
        return True
    return False


@pytest.mark.parametrize("login", ROLES)
def test_no_role_can_grant_itself_a_dangerous_or_sensitive_role(security_topology, login):
    role = _resolve(login)
    cluster, dbname = _cluster(login)
    targets = [*DANGEROUS_PREDEFINED, *(r for r in SENSITIVE[cluster] if r != role)]
    with connect_as(role, cluster, dbname) as conn:
        for target in targets:
            for grantee in (role, _another_login(role, cluster)):
                statement = sql.SQL("GRANT {} TO {}").format(sql.Identifier(target), sql.Identifier(grantee))
                assert _refused(conn, statement), f"{role} could GRANT {target} TO {grantee}"
            if (role, target) in DESIGNED_MEMBERS or WRITER_LOGINS.get(role) == target:
                continue  # its job (the kill switch revokes the writer memberships)
            assert _refused(conn, sql.SQL("SET ROLE {}").format(sql.Identifier(target))), (
                f"{role} could SET ROLE {target}"
            )


@pytest.mark.parametrize("login", ROLES)
def test_no_role_can_create_or_alter_roles(security_topology, login):
    role = _resolve(login)
    cluster, dbname = _cluster(login)
    with connect_as(role, cluster, dbname) as conn:
        assert _refused(conn, sql.SQL("CREATE ROLE escalation_probe LOGIN")), f"{role} could CREATE ROLE"
        for attribute in ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS"):
            statement = sql.SQL("ALTER ROLE {} " + attribute).format(sql.Identifier(role))
            assert _refused(conn, statement), f"{role} could ALTER ROLE itself {attribute}"
        # the predefined/sensitive roles cannot be altered (password, login) either
        for target in SENSITIVE[cluster]:
            if target != role:
                statement = sql.SQL("ALTER ROLE {} LOGIN PASSWORD 'x'").format(sql.Identifier(target))
                assert _refused(conn, statement), f"{role} could ALTER ROLE {target}"


def _closure(conn, role: str) -> set[str]:
    rows = conn.execute(
        "SELECT r.rolname FROM pg_roles r WHERE r.rolname <> %s AND pg_has_role(%s, r.oid, 'MEMBER')", (role, role)
    ).fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("login", ROLES)
def test_no_role_is_a_member_of_a_dangerous_role_or_a_superuser(security_topology, login):
    role = _resolve(login)
    cluster, dbname = _cluster(login)
    with connect_as(role, cluster, dbname) as conn:
        attrs = conn.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        assert attrs == (False, False, False, False), f"{role}: superuser/createrole/createdb/bypassrls {attrs}"
        closure = _closure(conn, role)
    dangerous = {(role, r) for r in closure if r in DANGEROUS_PREDEFINED} - DESIGNED_MEMBERS
    assert not dangerous, f"{role} is a member of {sorted(r for _, r in dangerous)}"
    assert not closure & {"compliance_keyholder", "write_path_admin", "postgres"}


def test_warehouse_admin_operates_the_kill_switch_only_through_its_fenced_functions(security_topology):
    with connect_as("warehouse_admin") as conn:
        assert _refused(conn, sql.SQL("GRANT dbt_writer TO warehouse_admin"))
        assert _refused(conn, sql.SQL("GRANT etl_writer TO analytics_user"))
        assert _refused(conn, sql.SQL("REVOKE etl_writer FROM etl_user"))  # only via the function
        conn.execute("SELECT ops.kill_switch_revoke_write_paths()")
        try:
            assert not conn.execute("SELECT pg_has_role('etl_user', 'etl_writer', 'MEMBER')").fetchone()[0]
            assert not conn.execute("SELECT pg_has_role('warehouse_admin', 'etl_writer', 'MEMBER')").fetchone()[0]
        finally:
            conn.execute("SELECT ops.kill_switch_restore_write_paths()")
        assert conn.execute("SELECT pg_has_role('dbt_runner', 'dbt_writer', 'MEMBER')").fetchone()[0]
        # the keeper's functions take no argument: nothing else can be granted through them
        assert _refused(conn, sql.SQL("ALTER FUNCTION ops.kill_switch_restore_write_paths() OWNER TO warehouse_admin"))


@pytest.mark.parametrize(
    "login", [r for r in LOGIN_ROLES if r != "warehouse_admin" and LOGIN_ROLES[r][0] == "warehouse"]
)
def test_only_warehouse_admin_may_call_the_kill_switch_functions(security_topology, login):
    with connect_as(login) as conn:
        for function in ("ops.kill_switch_restore_write_paths()", "ops.kill_switch_revoke_write_paths()"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"SELECT {function}")


@pytest.mark.parametrize("login", [r for r in LOGIN_ROLES if r != "replicator"])
def test_no_role_can_read_server_files_or_run_programs(security_topology, login):
    cluster, dbname = _cluster(login)
    with connect_as(login, cluster, dbname) as conn:
        for statement in (
            "SELECT pg_read_file('postgresql.auto.conf')",
            "SELECT pg_ls_dir('.')",
            "COPY (SELECT 1) TO PROGRAM 'true'",
        ):
            with pytest.raises((errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)):
                conn.execute(statement)


def test_replicator_streams_but_reads_no_table(security_topology):
    with superuser("primary", "postgres") as su:
        su.execute("CREATE TABLE IF NOT EXISTS public.replicator_probe AS SELECT 'someone@example.com' AS email")
    with connect_as("replicator", "primary", "postgres") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM public.replicator_probe")
    # a replication connection is what it is for
    with psycopg.connect(security_topology.dsn("primary", "postgres", "replicator") + "?replication=true") as conn:
        assert conn.pgconn.status == psycopg.pq.ConnStatus.OK


@pytest.mark.parametrize("login", ["pushback_writer", "compliance_admin", "compliance_user", "some_app_reader"])
def test_no_large_objects_and_no_public_functions_on_primary_and_compliance(security_topology, login):
    role = _resolve(login)
    cluster, dbname = _cluster(login)
    with connect_as(role, cluster, dbname) as conn:
        for statement in ("SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'x')"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        schema = {"pushback_writer": app_readers()[0].removesuffix("_app_reader"), "compliance_admin": "compliance"}
        if login in schema:  # the roles that own a schema: their new functions are not PUBLIC's
            name = sql.Identifier(schema[login], "escalation_probe_fn")
            conn.execute(
                sql.SQL("CREATE OR REPLACE FUNCTION {}() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$").format(name)
            )
            try:
                grantees = conn.execute(
                    "SELECT a.grantee::int FROM pg_proc p,"
                    " aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a WHERE p.oid = %s::regprocedure",
                    (f"{schema[login]}.escalation_probe_fn()",),
                ).fetchall()
                assert grantees and 0 not in {g for (g,) in grantees}, f"PUBLIC may execute {login}'s new function"
            finally:
                conn.execute(sql.SQL("DROP FUNCTION {}()").format(name))
