"""Least PII, tried as each warehouse login (issue 10 §1, DESIGN §6): every relation (and column) a
login can read, through every role it can become, is exactly what its job needs. pipeline_monitor
sees freshness figures, not personal data (it used to read every email in raw)."""

from __future__ import annotations

import fnmatch
import uuid
from datetime import UTC, datetime

import pytest
from psycopg import errors, sql

from tests.security.conftest import WAREHOUSE_LOGINS, connect_as, superuser

# What each login may read (schema.table patterns), through any role it can SET.
MAY_READ = {
    "etl_user": (
        "raw.*",
        "etl.extract_batch",
        "etl.extract_watermark",
        "etl.extract_open_xact",  # the late-commit hold's bookkeeping
        "etl.reconcile_result",  # what the reconcile DAG (as etl_user) found and repaired
        "ops.kill_switch",
    ),
    "dbt_runner": (
        "raw.*",
        "staging.*",
        "intermediate.*",
        "marts.*",
        "analytics.*",
        "ml.*",
        "dbt_artifacts.*",
        "etl.extract_batch",
        "etl.extract_watermark",
        "ops.kill_switch",
        "compliance.hash_key_status",  # which key version is active, never the key
        "rtbf.erased_rows_per_relation",  # salt rotation's verify: rows erased per relation (counts only)
        "pii_guard.*",  # the PII guard's sample of raw while a dbt invocation runs (a copy of raw values)
    ),
    "analytics_user": ("marts.*", "analytics.*"),
    "pipeline_monitor": (
        "etl.extract_batch",
        "etl.extract_open_xact",  # xid ranges and times
        "etl.reconcile_result",  # counts and statuses (not `detail`, below)
        "pushback.refresh_log",  # push-back lag (runbook 10.4)
        "ops.alert_outbox",
        "ops.kill_switch",
        "dbt_artifacts.*",
    ),
    "warehouse_admin": (
        "ops.kill_switch",
        "dbt_artifacts.*",
        "compliance.hash_key_status",
        "rtbf.erasure_journal",  # right to be forgotten: request ids, table names, counts (it ships them)
    ),
}
# Columns a login must not read even where it reads the table (an error text can quote a source value).
MAY_NOT_READ_COLUMNS = {"pipeline_monitor": ("etl.extract_batch.error", "etl.reconcile_result.detail")}


@pytest.fixture(scope="module")
def raw_with_pii(security_topology):
    """A raw table holding an email, landed as the extract lands it (owner etl_writer)."""
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("SET ROLE etl_writer")
        su.execute("CREATE TABLE IF NOT EXISTS raw.least_pii_probe (id int PRIMARY KEY, email text)")
        su.execute("INSERT INTO raw.least_pii_probe VALUES (1, 'thandi.nkosi@example.co.za') ON CONFLICT DO NOTHING")
    yield "raw.least_pii_probe"
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("DROP TABLE IF EXISTS raw.least_pii_probe")


def readable(conn, login: str) -> dict[str, bool]:
    """relation -> readable in full (False: only some columns), through every role `login` can become."""
    rows = conn.execute(
        """
        SELECT n.nspname || '.' || c.relname,
               bool_or(has_table_privilege(r.oid, c.oid, 'SELECT')) AS whole
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN pg_roles r
        WHERE pg_has_role(%s, r.oid, 'MEMBER')
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
          AND has_any_column_privilege(r.oid, c.oid, 'SELECT')
        GROUP BY 1
        """,
        (login,),
    ).fetchall()
    return dict(rows)


@pytest.mark.parametrize("login", WAREHOUSE_LOGINS)
def test_each_login_reads_only_what_its_job_needs(raw_with_pii, login):
    with connect_as(login) as conn:
        extra = sorted(
            rel for rel in readable(conn, login) if not any(fnmatch.fnmatchcase(rel, p) for p in MAY_READ[login])
        )
        assert extra == [], f"{login} can read {extra}"
        for column in MAY_NOT_READ_COLUMNS.get(login, ()):
            table, name = column.rsplit(".", 1)
            assert not conn.execute(
                "SELECT has_column_privilege(%s, %s::regclass, %s, 'SELECT')", (login, table, name)
            ).fetchone()[0], f"{login} can read {column}"


@pytest.mark.parametrize("login", ["pipeline_monitor", "analytics_user", "warehouse_admin"])
def test_no_personal_data_for_roles_that_do_not_transform(raw_with_pii, login):
    with connect_as(login) as conn:
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT email FROM {raw_with_pii}")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT error FROM etl.extract_batch LIMIT 1")


@pytest.fixture
def pii_guard_sample(security_topology):
    """A dbt invocation's PII guard sample (pii_guard.needles_*), created the way dbt creates it:
    by dbt_runner acting as dbt_writer."""
    name = "needles_" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex
    with connect_as("dbt_runner") as conn:
        conn.execute("SET ROLE dbt_writer")
        conn.execute(
            sql.SQL("CREATE UNLOGGED TABLE pii_guard.{} AS SELECT 'thandi.nkosi@example.co.za'::text AS needle").format(
                sql.Identifier(name)
            )
        )
    yield f"pii_guard.{name}"
    with superuser("warehouse", "data_warehouse") as su:
        su.execute(sql.SQL("DROP TABLE IF EXISTS pii_guard.{}").format(sql.Identifier(name)))


@pytest.mark.parametrize("login", [login for login in WAREHOUSE_LOGINS if login != "dbt_runner"])
def test_the_pii_guard_sample_is_out_of_reach_of_every_other_login(pii_guard_sample, login):
    """The guard's sample of raw is personal data: no login but dbt's reads it, by any role it can become."""
    with connect_as(login) as conn:
        assert not any(rel.startswith("pii_guard.") for rel in readable(conn, login))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT needle FROM {pii_guard_sample}")


def test_dbt_cannot_expose_the_pii_guard_sample(pii_guard_sample):
    """dbt_writer owns the sample tables it creates, but may not hand them (or future ones) to anyone:
    the writer fence refuses the grant; the schema itself is not dbt_writer's to open."""
    with connect_as("dbt_runner") as conn:
        conn.execute("SET ROLE dbt_writer")
        with pytest.raises(errors.InsufficientPrivilege, match="writer fence"):
            conn.execute(f"GRANT SELECT ON {pii_guard_sample} TO analytics_user")
        with pytest.raises(errors.InsufficientPrivilege, match="writer fence"):
            conn.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA pii_guard GRANT SELECT ON TABLES TO analytics_user")
        conn.execute("GRANT USAGE ON SCHEMA pii_guard TO analytics_user")  # not its schema: granted nothing
    with connect_as("analytics_user") as conn:
        assert not conn.execute("SELECT has_schema_privilege('pii_guard', 'USAGE')").fetchone()[0]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"SELECT needle FROM {pii_guard_sample}")


def test_pipeline_monitor_still_measures_freshness(raw_with_pii, registry):
    from dataacuity import freshness

    with connect_as("pipeline_monitor", autocommit=False) as conn:
        results = freshness.measure(conn, registry)
    assert len(results) == len(list(registry.tables()))
