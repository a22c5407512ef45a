"""Kill-switch bypass, tried as an attacker would (issue 10 §1, security posture §7).

While the kill switch is engaged no writing role may write into the warehouse by ANY route. The
routes tried: objects a writer role plants BEFORE the switch is engaged (SECURITY DEFINER functions,
write grants on its tables and views to other roles or PUBLIC, default privileges for tables it
creates later, sequence grants), roles it can still SET, functions it can still execute, large
objects, temporary objects and prepared transactions. Every planting attempt must be refused at the
statement; every write attempt during the switch must fail; and the catalog must show that no role
any login can become holds a write privilege on the warehouse layers (pipeline_monitor keeps its
alert outbox on purpose, so alerts still flow).
"""

from __future__ import annotations

import pytest
from psycopg import errors, sql

from tests.security.conftest import WAREHOUSE_LOGINS, WRITER_LOGINS, connect_as, superuser

LAYERS = ("raw", "staging", "intermediate", "marts", "analytics", "ml", "dbt_artifacts", "etl", "pii_guard")
OTHERS = ("analytics_user", "pipeline_monitor", "warehouse_admin", "PUBLIC")
HOME = {"etl_writer": "raw", "dbt_writer": "marts"}  # a schema each writer owns/creates in


@pytest.fixture(scope="module")
def probes(security_topology):
    """A table in each writer's schema, owned by the writer, as the pipeline would create it."""
    with superuser("warehouse", "data_warehouse") as su:
        for writer, schema in HOME.items():
            su.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(writer)))
            su.execute(f"CREATE TABLE IF NOT EXISTS {schema}.bypass_probe (id bigserial PRIMARY KEY, note text)")
            su.execute("RESET ROLE")
    yield
    with superuser("warehouse", "data_warehouse") as su:
        for schema in HOME.values():
            su.execute(f"DROP TABLE IF EXISTS {schema}.bypass_probe CASCADE")
            su.execute(f"DROP FUNCTION IF EXISTS {schema}.bypass_invoker()")


def _grantee(name: str) -> sql.Composable:
    return sql.SQL("PUBLIC") if name == "PUBLIC" else sql.Identifier(name)


PLANTS = {
    "security definer function": "CREATE FUNCTION {s}.bypass_plant() RETURNS void LANGUAGE sql SECURITY DEFINER "
    "AS $$ INSERT INTO {s}.bypass_probe (note) VALUES ('planted') $$",
    "invoker function turned definer": "ALTER FUNCTION {s}.bypass_invoker() SECURITY DEFINER",
    "write grant on its table": "GRANT INSERT, UPDATE, DELETE, TRUNCATE ON {s}.bypass_probe TO {g}",
    "write grant on a view over its table": "CREATE VIEW {s}.bypass_view AS SELECT * FROM {s}.bypass_probe; "
    "GRANT INSERT ON {s}.bypass_view TO {g}",
    "sequence grant": "GRANT USAGE, UPDATE ON SEQUENCE {s}.bypass_probe_id_seq TO {g}",
    "default write privileges on later tables": "ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT INSERT ON TABLES TO {g}",
    "default execute on later functions": "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO {g}",
    "trigger grant": "GRANT TRIGGER ON {s}.bypass_probe TO {g}",
}


@pytest.mark.parametrize("login", list(WRITER_LOGINS))
@pytest.mark.parametrize("plant", list(PLANTS))
def test_writer_roles_cannot_plant_a_route_around_the_kill_switch(probes, login, plant):
    writer = WRITER_LOGINS[login]
    schema = HOME[writer]
    with connect_as(login) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(writer)))
        conn.execute(
            f"CREATE OR REPLACE FUNCTION {schema}.bypass_invoker() RETURNS void LANGUAGE sql "
            f"AS $$ INSERT INTO {schema}.bypass_probe (note) VALUES ('invoker') $$"
        )
        for grantee in OTHERS:
            statement = PLANTS[plant].format(s=schema, g=_grantee(grantee).as_string(conn))
            conn.execute("BEGIN")
            try:
                with pytest.raises(errors.InsufficientPrivilege, match="writer fence"):
                    conn.execute(statement)
            finally:
                conn.execute("ROLLBACK")
            if "{g}" not in PLANTS[plant]:
                break


@pytest.mark.parametrize("login", list(WRITER_LOGINS))
def test_functions_writers_create_are_not_executable_by_public(probes, login):
    writer = WRITER_LOGINS[login]
    with connect_as(login) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(writer)))
        schema = HOME[writer]
        conn.execute(
            f"CREATE OR REPLACE FUNCTION {schema}.bypass_invoker() RETURNS void LANGUAGE sql "
            f"AS $$ INSERT INTO {schema}.bypass_probe (note) VALUES ('invoker') $$"
        )
        for other in ("analytics_user", "pipeline_monitor", "warehouse_admin"):
            allowed = conn.execute(
                "SELECT has_function_privilege(%s, %s::regprocedure, 'EXECUTE')", (other, f"{schema}.bypass_invoker()")
            ).fetchone()[0]
            assert not allowed, f"{other} may execute a function {writer} just created"


def test_every_fence_check_the_trigger_uses_is_clean_on_the_real_warehouse(security_topology):
    with connect_as("warehouse_admin") as conn:
        assert conn.execute("SELECT * FROM ops.writer_fence_violations()").fetchall() == []


@pytest.mark.parametrize("login", WAREHOUSE_LOGINS)
def test_no_write_route_is_left_to_any_login_while_engaged(probes, kill_switch_engaged, login):
    with connect_as(login) as conn:
        # 1. roles it can still become hold no write privilege on any layer (catalog truth)
        writable = conn.execute(
            """
            SELECT r.rolname, c.oid::regclass::text, p.priv
            FROM pg_roles r
            CROSS JOIN pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p(priv)
            WHERE pg_has_role(%(login)s, r.oid, 'MEMBER')
              AND n.nspname = ANY (%(layers)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND has_table_privilege(r.oid, c.oid, p.priv)
            """,
            {"login": login, "layers": list(LAYERS)},
        ).fetchall()
        assert writable == [], f"{login} can still write: {writable[:5]}"
        creatable = conn.execute(
            "SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY (%s) AND has_schema_privilege(%s, n.oid, 'CREATE')",
            (list(LAYERS), login),
        ).fetchall()
        assert creatable == [], f"{login} can still create in {creatable}"
        # 2. every SECURITY DEFINER function it may execute is owned by a role that cannot write the layers
        definer_writers = conn.execute(
            """
            SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner)
            FROM pg_proc p
            WHERE p.prosecdef AND has_function_privilege(%(login)s, p.oid, 'EXECUTE')
              AND EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                          WHERE n.nspname = ANY (%(layers)s) AND c.relkind IN ('r', 'p')
                            AND has_table_privilege(p.proowner, c.oid, 'INSERT'))
            """,
            {"login": login, "layers": list(LAYERS)},
        ).fetchall()
        assert definer_writers == [], f"{login} can run writer-rights code: {definer_writers}"
        # 3. and the writes themselves, for real
        if login in WRITER_LOGINS:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(WRITER_LOGINS[login])))
        for schema in HOME.values():
            for statement in (
                f"INSERT INTO {schema}.bypass_probe (note) VALUES ('during kill switch')",
                f"UPDATE {schema}.bypass_probe SET note = 'x'",
                f"DELETE FROM {schema}.bypass_probe",
                f"TRUNCATE {schema}.bypass_probe",
                f"CREATE TABLE {schema}.bypass_new (x int)",
                f"SELECT nextval('{schema}.bypass_probe_id_seq')",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement)
        for statement in ("SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'x')", "CREATE TEMP TABLE t (x int)"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_transaction_prepared_before_engage_cannot_commit_after(probes, security_topology):
    """Prepared transactions would survive the sessions the kill switch ends: they are disabled."""
    with connect_as("dbt_runner") as conn:
        conn.execute("BEGIN")
        conn.execute("SET LOCAL ROLE dbt_writer")
        conn.execute("INSERT INTO marts.bypass_probe (note) VALUES ('prepared')")
        with pytest.raises(errors.ObjectNotInPrerequisiteState, match="prepared transactions are disabled"):
            conn.execute("PREPARE TRANSACTION 'bypass'")
        conn.execute("ROLLBACK")
    with superuser("warehouse", "data_warehouse") as su:
        assert su.execute("SELECT count(*) FROM pg_prepared_xacts").fetchone()[0] == 0
