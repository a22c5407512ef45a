"""Keyed hashing inside PostgreSQL (runbook 2.1): compliance.hash_* on .118 and its protected
copy on the warehouse. Real clusters, real roles; nothing mocked."""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import errors

from dataacuity import compliance
from tools.key_link import ensure_local_key_link

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="module")
def key_link(topology):
    """The .106 -> .118 key link installed and the warehouse copy loaded (idempotent)."""
    return ensure_local_key_link()


def connect(topology, cluster: str, dbname: str, role: str = "postgres", set_role: str | None = None):
    conn = psycopg.connect(topology.dsn(cluster, dbname, role), autocommit=True)
    if set_role:
        conn.execute(f"SET ROLE {set_role}")
    return conn


def hash_on(conn, expression: str, *params):
    return conn.execute(f"SELECT {expression}", params).fetchone()[0]


def test_hash_user_returns_64_lowercase_hex_on_the_compliance_host(topology, key_link):
    with connect(topology, "compliance", "compliance", "compliance_user") as conn:
        value = hash_on(conn, "compliance.hash_user('test')")
    assert HEX64.match(value), value


def test_hash_is_deterministic_and_the_same_on_both_hosts(topology, key_link):
    with (
        connect(topology, "compliance", "compliance", "compliance_user") as c118,
        connect(topology, "warehouse", "data_warehouse", "dbt_runner", set_role="dbt_writer") as c106,
    ):
        for family in compliance.HASH_FAMILIES:
            a = hash_on(c118, f"compliance.hash_{family}(%s::text)", "42")
            b = hash_on(c118, f"compliance.hash_{family}(%s::text)", "42")
            c = hash_on(c106, f"compliance.hash_{family}(%s::text)", "42")
            assert HEX64.match(a) and a == b == c, family
        assert hash_on(c106, "compliance.hash_user(42::bigint)") == hash_on(c106, "compliance.hash_user('42')")
        # the families are keyed separately: a device hash does not join a user hash
        assert hash_on(c106, "compliance.hash_user('42')") != hash_on(c106, "compliance.hash_device('42')")
        # and it is an HMAC, not a plain digest of the value
        assert hash_on(c106, "compliance.hash_user('42')") != hash_on(c106, "encode(sha256('42'::bytea), 'hex')")


def test_set_based_forms_match_the_scalar_form(topology, key_link):
    values = ["1", "2", "20000", "abc"]
    with connect(topology, "warehouse", "data_warehouse", "dbt_runner", set_role="dbt_writer") as conn:
        scalar = [hash_on(conn, "compliance.hash_user(%s::text)", v) for v in values]
        assert hash_on(conn, "compliance.hash_user(%s::text[])", values) == scalar
        assert compliance.hash_values(conn, "user", values) == dict(zip(values, scalar, strict=True))


def test_values_are_normalised_before_hashing(topology, key_link):
    with connect(topology, "warehouse", "data_warehouse", "dbt_runner", set_role="dbt_writer") as conn:
        phones = {
            hash_on(conn, "compliance.hash_phone(%s)", v) for v in ("+27 82 123 4567", "0821234567", "0027821234567")
        }
        emails = {
            hash_on(conn, "compliance.hash_email(%s)", v) for v in ("Thabo@Example.co.za ", "thabo@example.co.za")
        }
    assert len(phones) == 1 and len(emails) == 1


def test_another_salt_gives_another_hash(topology, key_link):
    # .118: rotate inside a transaction and roll back (the shared salts stay untouched)
    with psycopg.connect(topology.dsn("compliance", "compliance", "compliance_admin")) as conn:
        before = hash_on(conn, "compliance.hash_user('test')")
        new_id = compliance.rotate_salt(conn, "user", "test: another salt gives another hash")
        after = hash_on(conn, "compliance.hash_user('test')")
        retired = conn.execute(
            "SELECT count(*) FROM compliance.salt_status WHERE salt_family = 'user' AND is_retired AND retired_by IS NOT NULL"
        ).fetchone()[0]
        conn.rollback()
    assert HEX64.match(after) and after != before and new_id and retired >= 1
    # .106: another key in the copy gives other hashes too (rolled back as well)
    with psycopg.connect(topology.dsn("warehouse", "data_warehouse")) as conn:
        before = hash_on(conn, "compliance.hash_user('test')")
        conn.execute("UPDATE compliance.hash_keys SET salt = gen_random_bytes(32) WHERE salt_family = 'user'")
        after = hash_on(conn, "compliance.hash_user('test')")
        conn.rollback()
    assert before != after


def test_the_warehouse_copy_matches_the_active_salts_of_118(topology, key_link):
    with (
        connect(topology, "compliance", "compliance") as c118,
        connect(topology, "warehouse", "data_warehouse", "warehouse_admin") as c106,
    ):
        assert compliance.keys_in_sync(c106, c118)
        states = compliance.refresh_hash_keys(c106)  # warehouse_admin may refresh; nothing changed
        assert {s.salt_family for s in states} == set(compliance.HASH_FAMILIES)
        assert not any(s.changed for s in states)


@pytest.mark.parametrize(
    ("role", "set_role"),
    [("dbt_runner", "dbt_writer"), ("analytics_user", None), ("etl_user", "etl_writer"), ("warehouse_admin", None)],
)
def test_no_warehouse_role_can_read_the_key(topology, key_link, role, set_role):
    with connect(topology, "warehouse", "data_warehouse", role, set_role=set_role) as conn:
        for query in (
            "SELECT salt FROM compliance.hash_keys",
            "SELECT salt_wrapped FROM compliance.remote_key_export",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(query)
        options = conn.execute("SELECT umoptions FROM pg_user_mappings WHERE srvname = 'compliance_118'").fetchall()
        assert all(row[0] is None for row in options), "link password visible"


def test_analytics_user_cannot_even_call_the_hash_functions(topology, key_link):
    with (
        connect(topology, "warehouse", "data_warehouse", "analytics_user") as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT compliance.hash_user('42')")


def test_dbt_writer_cannot_refresh_or_replace_the_key(topology, key_link):
    with connect(topology, "warehouse", "data_warehouse", "dbt_runner", set_role="dbt_writer") as conn:
        for statement in (
            "SELECT * FROM compliance.refresh_hash_keys()",
            "INSERT INTO compliance.hash_keys VALUES ('x', 1, gen_random_bytes(32), now(), now(), 'active')",
            "UPDATE compliance.hash_keys SET salt = salt",
        ):
            with pytest.raises((errors.InsufficientPrivilege, errors.UndefinedFunction)):
                conn.execute(statement)


def test_nobody_is_a_member_of_the_key_holder_role(topology, key_link):
    with connect(topology, "warehouse", "data_warehouse") as conn:
        members = conn.execute(
            "SELECT count(*) FROM pg_auth_members WHERE roleid = 'compliance_keyholder'::regrole"
        ).fetchone()[0]
        can_login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'compliance_keyholder'").fetchone()[
            0
        ]
    assert members == 0 and can_login is False


@pytest.mark.parametrize("role", ["compliance_user", "compliance_admin"])
def test_on_118_no_login_role_reads_salts_or_vault_keys(topology, key_link, role):
    with connect(topology, "compliance", "compliance", role) as conn:
        for query in (
            "SELECT salt FROM compliance.salts",
            "SELECT key FROM compliance.vault_keys",
            "SELECT salt_wrapped FROM compliance.warehouse_key_export",
            "SELECT value_encrypted FROM compliance.token_vault",
            "SELECT salt FROM compliance.hash_keys",
            "SELECT wrap_key FROM compliance.key_wrap",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(query)
        if role == "compliance_user":
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT compliance.rotate_salt('user', 'not allowed')")
        # fingerprints are fine to show
        assert len(conn.execute("SELECT fingerprint FROM compliance.salt_status").fetchall()) >= 6


def test_the_hash_functions_are_security_definer_owned_by_the_key_holders(topology, key_link):
    for cluster, dbname in (("warehouse", "data_warehouse"), ("compliance", "compliance")):
        with connect(topology, cluster, dbname) as conn:
            rows = conn.execute(
                "SELECT p.proname, p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig "
                "FROM pg_proc p WHERE p.pronamespace = 'compliance'::regnamespace AND p.proname ~ '^hash'"
            ).fetchall()
        assert rows
        for name, secdef, proowner, config in rows:
            assert secdef and proowner == "compliance_keyholder", (cluster, name)
            # search_path pinned AND every name qualified (tests/security/ attacks both)
            assert config == ["search_path=pg_catalog, pg_temp"], (cluster, name, config)


def test_the_array_form_keeps_the_input_order(topology, key_link):
    with connect(topology, "warehouse", "data_warehouse", "dbt_runner", set_role="dbt_writer") as conn:
        same = conn.execute(
            "SELECT compliance.hash_user(a) = (SELECT array_agg(compliance.hash_user(x) ORDER BY o) "
            "FROM unnest(a) WITH ORDINALITY AS u(x, o)) "
            "FROM (SELECT ARRAY(SELECT (random() * 1e9)::bigint::text FROM generate_series(1, 20000))) AS s(a)"
        ).fetchone()[0]
    assert same
