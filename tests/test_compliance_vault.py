"""Token vault on .118 (runbook 2.2): stable tokens, detokenise for compliance_user only, every
access audited (monitoring query 10.5)."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from psycopg import errors, sql

from dataacuity import compliance
from dataacuity.sqlfiles import query

TOKEN = re.compile(r"^tok_[a-z_]+_[0-9a-f]{32}$")


def connect(topology, cluster: str, dbname: str, role: str = "postgres"):
    return psycopg.connect(topology.dsn(cluster, dbname, role), autocommit=True)


@pytest.fixture
def email():
    return f"thandi.{uuid.uuid4().hex[:8]}@example.co.za"


def test_tokens_are_stable_per_value_and_family(topology, email):
    with connect(topology, "compliance", "compliance", "compliance_user") as conn:
        first = conn.execute("SELECT compliance.tokenise_email(%s)", (email,)).fetchone()[0]
        again = conn.execute("SELECT compliance.tokenise_email(%s)", (email.upper() + " ",)).fetchone()[0]
        other = conn.execute("SELECT compliance.tokenise_email(%s)", ("x" + email,)).fetchone()[0]
        as_name = conn.execute("SELECT compliance.tokenise_name(%s)", (email,)).fetchone()[0]
        bulk = compliance.tokenise(conn, "email", [email, "x" + email])
    assert TOKEN.match(first) and first.startswith("tok_email_")
    assert first == again != other
    assert as_name.startswith("tok_name_") and as_name != first
    assert bulk == {email: first, "x" + email: other}


def test_every_family_has_its_tokenise_function(topology):
    with connect(topology, "compliance", "compliance", "compliance_user") as conn:
        for family in compliance.TOKEN_FAMILIES:
            token = conn.execute(
                sql.SQL("SELECT compliance.{}(%s)").format(sql.Identifier(f"tokenise_{family}")), ("v",)
            )
            assert TOKEN.match(token.fetchone()[0]), family


def test_compliance_user_detokenises_and_is_audited(topology, email):
    with connect(topology, "compliance", "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
        before = conn.execute(
            "SELECT count(*) FROM compliance.token_access_audit WHERE token = %s", (token,)
        ).fetchone()[0]
        assert compliance.detokenise(conn, token) == email
        rows = conn.execute(
            "SELECT accessed_by, token_family, action, accessed_at > now() - interval '1 minute' "
            "FROM compliance.token_access_audit WHERE token = %s ORDER BY access_id",
            (token,),
        ).fetchall()
        # monitoring query 10.5 sees the access
        report = {row[0]: row for row in conn.execute(query("monitoring/10_5_token_vault_access.sql")).fetchall()}
    assert before == 1  # tokenising is audited too
    assert rows == [("compliance_user", "email", "tokenise", True), ("compliance_user", "email", "detokenise", True)]
    assert report["compliance_user"][1] >= 1 and "email" in report["compliance_user"][2]


def test_analytics_user_has_no_way_to_detokenise(topology, email):
    with connect(topology, "compliance", "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
    # 1. on the warehouse, where analytics_user lives: no vault function, no compliance schema
    with (
        connect(topology, "warehouse", "data_warehouse", "analytics_user") as conn,
        pytest.raises((errors.InsufficientPrivilege, errors.UndefinedFunction)),
    ):
        conn.execute("SELECT compliance.detokenise(%s)", (token,))
    # 2. its credentials do not open the compliance database
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(topology.dsn("compliance", "compliance", "analytics_user"), connect_timeout=5).close()
    # 3. on .118, any role that is not compliance_user is refused by PostgreSQL itself
    probe = f"probe_analytics_{uuid.uuid4().hex[:8]}"
    with connect(topology, "compliance", "compliance") as su:
        su.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(probe)))
        su.execute(sql.SQL("GRANT USAGE ON SCHEMA compliance TO {}").format(sql.Identifier(probe)))
        try:
            with su.transaction():
                su.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(probe)))
                with pytest.raises(errors.InsufficientPrivilege):
                    su.execute("SELECT compliance.detokenise(%s)", (token,))
        finally:
            su.execute("RESET ROLE")
            su.execute(sql.SQL("REVOKE ALL ON SCHEMA compliance FROM {}").format(sql.Identifier(probe)))
            su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(probe)))


def test_even_a_superuser_is_refused_and_the_refusal_audited(topology, email):
    with connect(topology, "compliance", "compliance") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
        assert compliance.detokenise(conn, token) is None
        rows = conn.execute(
            "SELECT accessed_by, action FROM compliance.token_access_audit WHERE token = %s ORDER BY access_id",
            (token,),
        ).fetchall()
    assert rows == [("postgres", "tokenise"), ("postgres", "denied")]


def test_compliance_admin_may_tokenise_but_not_detokenise(topology, email):
    with connect(topology, "compliance", "compliance", "compliance_admin") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
        with pytest.raises(errors.InsufficientPrivilege):
            compliance.detokenise(conn, token)


def test_the_vault_never_stores_the_value_in_clear(topology, email):
    with connect(topology, "compliance", "compliance") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
        raw = conn.execute(
            "SELECT value_digest, value_encrypted FROM compliance.token_vault WHERE token = %s", (token,)
        ).fetchone()
    assert email.encode() not in bytes(raw[0]) and email.encode() not in bytes(raw[1])
