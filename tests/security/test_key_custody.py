"""Key custody and the vault's audit, tried the way an attacker would (issue 8 §1).

For every login role of both hosts (and every role it can SET ROLE to): no key is readable, the
key holder cannot be joined or changed, a detokenise leaves an audit row whatever the caller does
with its transaction, and a routine warehouse backup holds no key."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors, sql

from dataacuity import compliance, connections
from tests.security import support
from tools import backup_warehouse, key_link

KEY_TABLES = {
    "warehouse": ["compliance.hash_keys", "compliance.key_wrap", "compliance.remote_key_export"],
    "compliance": [
        "compliance.salts",
        "compliance.hash_keys",
        "compliance.vault_keys",
        "compliance.key_wrap",
        "compliance.token_vault",
        "compliance.rtbf_seal_key",  # seals the subject of an open right-to-be-forgotten request
    ],
}


@pytest.fixture(scope="module")
def keys(topology):
    key_link.ensure_local_key_link()
    return support.key_material(topology)


@pytest.fixture
def email():
    return f"custody.{uuid.uuid4().hex[:8]}@example.co.za"


def audit_rows(topology, token: str) -> list[tuple]:
    with support.connect(topology, "compliance") as conn:
        return conn.execute(
            "SELECT accessed_by, action FROM compliance.token_access_audit WHERE token = %s ORDER BY access_id",
            (token,),
        ).fetchall()


@pytest.mark.parametrize("cluster", ["warehouse", "compliance"])
def test_no_login_role_can_read_a_key_by_any_role_it_can_become(topology, keys, cluster):
    with support.connect(topology, cluster) as su:
        cases = [(login, acting) for login in support.login_roles(su) for acting in support.acting_roles(su, login)]
    tried = 0
    for login, acting in cases:
        conn = support.connect_as(topology, cluster, login)
        if conn is None:
            continue
        with conn:
            if acting != login:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(acting)))
            for table in KEY_TABLES[cluster]:
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(sql.SQL("SELECT * FROM {}").format(sql.SQL(table))).fetchall()
                tried += 1
            # the link's secrets are not visible either
            for (options,) in conn.execute("SELECT umoptions FROM pg_user_mappings").fetchall():
                assert not support.find_keys(repr(options).encode(), keys)
                assert options is None, f"{login}/{acting} sees user mapping options"
    assert tried


@pytest.mark.parametrize("cluster", ["warehouse", "compliance"])
def test_no_role_can_become_the_key_holder(topology, keys, cluster):
    with support.connect(topology, cluster) as su:
        holder = su.execute(
            "SELECT rolcanlogin, rolsuper, (SELECT count(*) FROM pg_auth_members WHERE roleid = r.oid) "
            "FROM pg_roles AS r WHERE rolname = 'compliance_keyholder'"
        ).fetchone()
        assert holder == (False, False, 0)
        creators = su.execute(
            "SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolcreaterole"
        ).fetchall()
        assert creators == [], f"login roles with CREATEROLE can grant themselves the key holder: {creators}"
        cases = [(login, acting) for login in support.login_roles(su) for acting in support.acting_roles(su, login)]
    for login, acting in cases:
        conn = support.connect_as(topology, cluster, login)
        if conn is None:
            continue
        with conn:
            if acting != login:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(acting)))
            for statement in (
                sql.SQL("GRANT compliance_keyholder TO {}").format(sql.Identifier(login)),
                sql.SQL("SET ROLE compliance_keyholder"),
                sql.SQL("ALTER ROLE compliance_keyholder LOGIN PASSWORD 'x'"),
                sql.SQL("ALTER TABLE compliance.hash_keys OWNER TO {}").format(sql.Identifier(acting)),
                sql.SQL("ALTER SCHEMA compliance OWNER TO {}").format(sql.Identifier(acting)),
                sql.SQL("DROP FUNCTION compliance.hash_many(text, text[])"),
            ):
                with pytest.raises(psycopg.Error):
                    conn.execute(statement)
    with support.connect(topology, cluster) as su:
        assert (
            su.execute(
                "SELECT count(*) FROM pg_auth_members WHERE roleid = 'compliance_keyholder'::regrole"
            ).fetchone()[0]
            == 0
        )


def test_no_airflow_connection_is_the_key_holder_or_the_audit_writer(topology):
    roles = {role for _, _, role in topology.AIRFLOW_CONNECTIONS.values()}
    assert not roles & {"compliance_keyholder", compliance.VAULT_AUDITOR_ROLE, compliance.KEY_SYNC_ROLE}
    assert connections.COMPLIANCE == "compliance_118"


def test_the_links_118_login_reads_only_wrapped_keys(topology, keys):
    with support.connect_as(topology, "compliance", compliance.KEY_SYNC_ROLE) as conn:
        rows = conn.execute("SELECT salt_family, salt_wrapped FROM compliance.warehouse_key_export").fetchall()
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM compliance.salts")
    assert rows and not support.find_keys(repr(rows).encode(), keys)


def test_detokenise_is_audited_even_when_the_caller_rolls_back(topology, email):
    with support.connect(topology, "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
        conn.execute("BEGIN")
        conn.execute("SAVEPOINT before_look")
        assert compliance.detokenise(conn, token) == email
        conn.execute("ROLLBACK TO SAVEPOINT before_look")
        assert compliance.detokenise(conn, token) == email
        conn.execute("ROLLBACK")
    # a refused caller's attempt is kept the same way
    with support.connect(topology, "compliance") as su:
        su.execute("BEGIN")
        assert compliance.detokenise(su, token) is None
        su.execute("ROLLBACK")
    assert audit_rows(topology, token) == [
        ("compliance_user", "tokenise"),
        ("compliance_user", "detokenise"),
        ("compliance_user", "detokenise"),
        ("postgres", "denied"),
    ]


def test_tokenising_a_value_that_has_a_token_is_audited(topology, email):
    with support.connect(topology, "compliance", "compliance_admin") as conn:
        first = compliance.tokenise(conn, "email", [email])[email]
        conn.execute("BEGIN")
        again = compliance.tokenise(conn, "email", [email])[email]
        conn.execute("ROLLBACK")
    assert first == again
    assert audit_rows(topology, first) == [("compliance_admin", "tokenise"), ("compliance_admin", "tokenise")]


def test_no_plaintext_without_an_audit_row(topology, email):
    """When the audit row cannot be written, detokenise fails and returns nothing."""
    with support.connect(topology, "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
    with support.connect(topology, "compliance") as su:
        su.execute("REVOKE INSERT ON compliance.token_access_audit FROM vault_auditor")
        try:
            with support.connect(topology, "compliance", "compliance_user") as conn:
                with pytest.raises(psycopg.Error) as failure:
                    compliance.detokenise(conn, token)
                assert email not in str(failure.value)
        finally:
            su.execute("GRANT INSERT ON compliance.token_access_audit TO vault_auditor")
    assert ("compliance_user", "detokenise") not in audit_rows(topology, token)


def test_nobody_can_change_or_remove_an_audit_row(topology, email):
    with support.connect(topology, "compliance", "compliance_user") as conn:
        token = compliance.tokenise(conn, "email", [email])[email]
    for role in ("compliance_user", "compliance_admin", compliance.VAULT_AUDITOR_ROLE):
        conn = support.connect_as(topology, "compliance", role)
        with conn:
            for statement in (
                "DELETE FROM compliance.token_access_audit WHERE token = %s",
                "UPDATE compliance.token_access_audit SET action = 'denied' WHERE token = %s",
                "TRUNCATE compliance.token_access_audit",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(statement, (token,) if "%s" in statement else None)
    assert audit_rows(topology, token) == [("compliance_user", "tokenise")]


def test_a_routine_warehouse_backup_holds_no_key(topology, keys, tmp_path):
    database, schemas = backup_warehouse.backup_schemas()
    with support.connect(topology, "warehouse") as su:
        key_schemas = {
            row[0]
            for row in su.execute(
                "SELECT DISTINCT n.nspname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE c.relowner = 'compliance_keyholder'::regrole"
            )
        }
    assert key_schemas and not key_schemas & set(schemas)
    out = backup_warehouse.dump(tmp_path / "warehouse.sql")
    dump = out.read_bytes()
    assert b"CREATE SCHEMA marts" in dump and b"CREATE SCHEMA raw" in dump  # a real backup
    assert not support.find_keys(dump, keys)
