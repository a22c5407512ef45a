"""The right-to-be-forgotten scanner (issue 9) tried the way an attacker would (issue 10 fence).

rtbf_scanner reads raw and staging (every email) so the zero-residual scan can prove a user is
gone. No login may read raw through it: nobody can log in as it or become it, and its only door,
rtbf.residual_hits(), is executable by warehouse_admin alone and answers hit counts per column,
never a value, whatever arguments it is given (no caller SQL, no caller LIKE patterns, no
row-level-security policy running as the scanner)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql

from tests.security import support
from tests.security.conftest import WAREHOUSE_LOGINS, connect_as, superuser
from tools import topology as _topology

EMAIL = "nomvula.dlamini.scanprobe@example.co.za"
SCAN = "SELECT * FROM rtbf.residual_hits(%s, %s, %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[])"


@pytest.fixture(scope="module")
def raw_probe(security_topology):
    """A raw table with an email and a free-text note, landed as the extract lands it (etl_writer)."""
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("SET ROLE etl_writer")
        su.execute("DROP TABLE IF EXISTS raw.rtbf_scanner_probe")
        su.execute("CREATE TABLE raw.rtbf_scanner_probe (id bigint PRIMARY KEY, user_id bigint, email text, note text)")
        su.execute(
            "INSERT INTO raw.rtbf_scanner_probe VALUES (1, 424242, %s, 'call me back'), (2, 7, 'x@example.co.za', %s)",
            (EMAIL, f"forward to {EMAIL} please"),
        )
    yield ("raw", "rtbf_scanner_probe")
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("DROP TABLE IF EXISTS raw.rtbf_scanner_probe")


def test_rtbf_scanner_is_nologin_memberless_and_a_registered_pii_reader(security_topology):
    with superuser("warehouse", "data_warehouse") as su:
        login, members = su.execute(
            "SELECT r.rolcanlogin, (SELECT count(*) FROM pg_auth_members m WHERE m.roleid = r.oid)"
            " FROM pg_roles r WHERE r.rolname = 'rtbf_scanner'"
        ).fetchone()
        assert (login, members) == (False, 0)
        assert "rtbf_scanner" in su.execute("SELECT ops.pii_layer_readers()").fetchone()[0]
        # the list 0600 started with is kept
        assert {"dbt_writer", "pushback_owner"} <= set(su.execute("SELECT ops.pii_layer_readers()").fetchone()[0])
        assert su.execute("SELECT * FROM ops.writer_fence_violations()").fetchall() == []
        # its only SECURITY DEFINER code: executable by warehouse_admin and nobody else
        grantees = su.execute(
            "SELECT p.oid::regprocedure::text, array_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'"
            " ELSE pg_get_userbyid(a.grantee) END::text)"
            " FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a"
            " WHERE p.proowner = 'rtbf_scanner'::regrole AND a.privilege_type = 'EXECUTE'"
            "   AND a.grantee <> p.proowner GROUP BY 1"
        ).fetchall()
        assert grantees == [("rtbf.residual_hits(text,text,text[],text[],text[],text[],bigint[])", ["warehouse_admin"])]


@pytest.mark.parametrize("login", WAREHOUSE_LOGINS)
def test_no_login_can_become_the_scanner(raw_probe, login):
    with connect_as(login) as conn:
        for role in support.acting_roles(conn, login):
            assert not conn.execute("SELECT pg_has_role(%s, 'rtbf_scanner', 'MEMBER')", (role,)).fetchone()[0]
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SET ROLE rtbf_scanner")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(sql.SQL("GRANT rtbf_scanner TO {}").format(sql.Identifier(login)))
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SET SESSION AUTHORIZATION rtbf_scanner")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("ALTER ROLE rtbf_scanner LOGIN")
    with pytest.raises(psycopg.OperationalError):  # and nobody logs in as it (NOLOGIN, no password)
        psycopg.connect(_topology.dsn("warehouse", "data_warehouse"), user="rtbf_scanner", connect_timeout=5)


@pytest.mark.parametrize("login", [r for r in WAREHOUSE_LOGINS if r != "warehouse_admin"])
def test_only_warehouse_admin_may_call_the_scan(raw_probe, login):
    with connect_as(login) as conn:
        for role in support.acting_roles(conn, login):
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(SCAN, (*raw_probe, ["user_id"], ["note"], [EMAIL], [EMAIL], [424242]))
            conn.execute("RESET ROLE")


def test_warehouse_admin_gets_counts_never_values(raw_probe):
    with connect_as("warehouse_admin") as conn:
        with pytest.raises(errors.InsufficientPrivilege):  # raw itself stays closed to it
            conn.execute("SELECT email FROM raw.rtbf_scanner_probe")
        cur = conn.execute(SCAN, (*raw_probe, ["user_id"], ["note"], [EMAIL], [EMAIL], [424242]))
        assert [(c.name, c.type_code) for c in cur.description] == [("column_name", 25), ("hits", 20)]  # text, int8
        rows = cur.fetchall()
        assert dict(rows) == {"user_id": 1, "email": 1, "note": 1, None: 2}
        assert EMAIL not in repr(rows)

        def hits(**kw):
            args = {"user_columns": [], "substring_columns": ["email", "note"], "exact": [], "contains": [], "ids": []}
            args.update(kw)
            found = conn.execute(SCAN, (*raw_probe, *args.values())).fetchall()
            return dict(found).get(None, 0)

        # no pattern of the caller's: wildcards are literal, and short needles are ignored
        assert hits(contains=["%"]) == 0
        assert hits(contains=["%%%%%%%%"]) == 0
        assert hits(contains=["______"]) == 0
        assert hits(contains=["@exam"]) == 0  # 5 characters: too short to be a needle
        assert hits(contains=["@example"]) == 2  # a count, still no value
        # no SQL of the caller's: names are looked up in the catalog, never spliced in
        for schema, table in (("raw", "rtbf_scanner_probe; SELECT 1"), ("raw", 'rtbf_scanner_probe" --')):
            with pytest.raises(errors.UndefinedTable):
                conn.execute(SCAN, (schema, table, [], [], [EMAIL], [], []))
        user_column_injection = ["user_id) OR (true"]
        found = conn.execute(SCAN, (*raw_probe, user_column_injection, [], [], [], [424242])).fetchall()
        assert found and all(count == 0 for _column, count in found)
        # no key through it: the scanner cannot read key tables either
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(SCAN, ("compliance", "hash_keys", [], [], ["x"], [], []))


def test_a_row_level_security_policy_never_runs_as_the_scanner(raw_probe):
    """A writer (who can create raw tables) plants a policy: the scan refuses the table rather than
    evaluating the writer's expression with the scanner's rights."""
    with superuser("warehouse", "data_warehouse") as su:
        su.execute("SET ROLE etl_writer")
        su.execute("DROP TABLE IF EXISTS raw.rtbf_scanner_rls_probe")
        su.execute("CREATE TABLE raw.rtbf_scanner_rls_probe (id int, email text)")
        su.execute("INSERT INTO raw.rtbf_scanner_rls_probe VALUES (1, %s)", (EMAIL,))
        su.execute("ALTER TABLE raw.rtbf_scanner_rls_probe ENABLE ROW LEVEL SECURITY")
        su.execute("CREATE POLICY everything ON raw.rtbf_scanner_rls_probe USING (true)")
    try:
        with connect_as("warehouse_admin") as conn, pytest.raises(errors.InsufficientPrivilege, match="row-level"):
            conn.execute(SCAN, ("raw", "rtbf_scanner_rls_probe", [], [], [EMAIL], [], []))
    finally:
        with superuser("warehouse", "data_warehouse") as su:
            su.execute("DROP TABLE IF EXISTS raw.rtbf_scanner_rls_probe")
