"""Shared helpers of the attack tests: connections as the real login roles, every key in every
encoding (read as superuser, only to search for them), and the roles a login can act as."""

from __future__ import annotations

import base64

import psycopg
from psycopg import sql

DATABASES = {"warehouse": "data_warehouse", "compliance": "compliance"}


def connect(topology, cluster: str, role: str = "postgres", **kwargs) -> psycopg.Connection:
    return psycopg.connect(topology.dsn(cluster, DATABASES[cluster], role), autocommit=True, **kwargs)


def connect_as(topology, cluster: str, login: str) -> psycopg.Connection | None:
    """A session of `login`: with its own password when the topology knows it, otherwise (links'
    logins whose password lives only in a user mapping) a superuser session switched to it with
    SET SESSION AUTHORIZATION - the same privileges, session_user included. None when the role may
    not connect to the database at all."""
    with connect(topology, cluster) as su:
        if not su.execute("SELECT has_database_privilege(%s, current_database(), 'CONNECT')", (login,)).fetchone()[0]:
            return None
    try:
        return connect(topology, cluster, login)
    except (psycopg.OperationalError, topology.TopologyError):
        conn = connect(topology, cluster)
        conn.execute(sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(login)))
        return conn


def key_material(topology) -> dict[str, bytes]:
    """Every key the two hosts hold (salts, vault keys, wrap keys, the warehouse copy), by label."""
    keys: dict[str, bytes] = {}
    with connect(topology, "compliance") as conn:
        for salt_id, family, salt in conn.execute(
            "SELECT salt_id, salt_family, salt FROM compliance.salts WHERE salt IS NOT NULL"
        ):
            keys[f".118 salt {salt_id} ({family})"] = bytes(salt)
        for purpose, key in conn.execute("SELECT purpose, key FROM compliance.vault_keys"):
            keys[f".118 vault {purpose} key"] = bytes(key)
        for (key,) in conn.execute("SELECT wrap_key FROM compliance.key_wrap"):
            keys[".118 wrap key"] = bytes(key)
    with connect(topology, "warehouse") as conn:
        for salt_id, family, salt in conn.execute("SELECT salt_id, salt_family, salt FROM compliance.hash_keys"):
            keys[f".106 copy {salt_id} ({family})"] = bytes(salt)
        for (key,) in conn.execute("SELECT wrap_key FROM compliance.key_wrap"):
            keys[".106 wrap key"] = bytes(key)
    return keys


def encodings(key: bytes) -> list[bytes]:
    """The forms a key could take in text: hex (both cases), base64 (with and without padding, and
    the URL-safe alphabet), PostgreSQL's bytea escape, and the raw bytes."""
    hexed = key.hex().encode()
    b64 = base64.b64encode(key)
    return [
        key,
        hexed,
        hexed.upper(),
        b64,
        b64.rstrip(b"="),
        base64.urlsafe_b64encode(key).rstrip(b"="),
        b"\\x" + hexed,
    ]


def find_keys(blob: bytes, keys: dict[str, bytes]) -> list[str]:
    """Labels of the keys found in `blob` in any encoding."""
    return [label for label, key in keys.items() if any(form in blob for form in encodings(key))]


def acting_roles(conn, login: str) -> list[str]:
    """`login` and every role it can SET ROLE to (its memberships, transitively)."""
    rows = conn.execute(
        """
        WITH RECURSIVE r(oid) AS (
            SELECT oid FROM pg_roles WHERE rolname = %s
            UNION
            SELECT m.roleid FROM pg_auth_members AS m JOIN r ON m.member = r.oid
        )
        SELECT rolname FROM pg_roles WHERE oid IN (SELECT oid FROM r) ORDER BY rolname = %s DESC, rolname
        """,
        (login, login),
    ).fetchall()
    return [row[0] for row in rows]


def login_roles(conn) -> list[str]:
    rows = conn.execute("SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def writable_schemas(conn, role: str) -> list[str]:
    """Schemas `role` itself may create objects in (pg_temp when it has TEMP on the database)."""
    rows = conn.execute(
        "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(%s, oid, 'CREATE') "
        "AND nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema' ORDER BY 1",
        (role,),
    ).fetchall()
    schemas = [row[0] for row in rows]
    if conn.execute("SELECT has_database_privilege(%s, current_database(), 'TEMP')", (role,)).fetchone()[0]:
        schemas.append("pg_temp")
    return schemas


def can_create_schema(conn, role: str) -> bool:
    return conn.execute("SELECT has_database_privilege(%s, current_database(), 'CREATE')", (role,)).fetchone()[0]


def security_definer_functions(conn) -> list[str]:
    rows = conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc AS p "
        "WHERE p.prosecdef AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) "
        "ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]
