"""Keyed hashing and the token vault, from Python (runbook 2.1, 2.2, 11.3).

The keys never come to Python: every function here asks PostgreSQL for hashes, tokens or key
*fingerprints*. See include/dbt/docs/compliance_key_access.md for the design and its threat model.

    hash_values(conn, "user", ["42", "43"])          # {"42": "<64 hex>", ...} (warehouse or .118)
    tokenise(conn, "email", ["a@b.co"])              # {"a@b.co": "tok_email_<32 hex>"} (.118)
    detokenise(conn, token)                          # compliance_user only; audited (.118)
    rotate_salt(compliance_conn, "user", reason)     # new salt generated inside .118
    refresh_hash_keys(warehouse_admin_conn)          # pull the active salts into .106's copy
    install_key_link(warehouse_su, compliance_su, host=..., port=...)   # one-off set-up

Local topology: ``python -m tools.key_link`` (idempotent, run by ``make up``) installs the
.106 -> .118 key link with a fresh random password and loads the key copy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import sql

from dataacuity.server_links import point_server_link, quiet_transaction

log = logging.getLogger(__name__)

# Families salt_rotation rotates, and the durable one it never rotates (references that must
# outlive a rotation: right-to-be-forgotten tombstones). docs/compliance-hashing.md, "Key generations".
ROTATING_FAMILIES = ("user", "device", "ip", "email", "phone", "id_number")
DURABLE_FAMILIES = ("erasure",)
HASH_FAMILIES = ROTATING_FAMILIES + DURABLE_FAMILIES
TOKEN_FAMILIES = ("email", "phone", "id_number", "name", "address", "device_id", "ip", "dob")
KEY_SYNC_ROLE = "warehouse_key_sync"  # .118 login the warehouse's postgres_fdw link uses
KEYHOLDER_ROLE = "compliance_keyholder"  # NOLOGIN owner of every key, on .106 and .118
FDW_SERVER = "compliance_118"
VAULT_AUDITOR_ROLE = "vault_auditor"  # .118 insert-only login of the vault's autonomous audit writes
VAULT_AUDIT_SERVER = "vault_audit"  # .118 dblink server (loopback) the audit writes go through


@dataclass(frozen=True)
class KeyState:
    salt_family: str
    salt_id: int
    fingerprint: str  # first 16 hex of sha256(sha256(salt)): comparable across hosts, not reversible
    changed: bool = False
    status: str = "active"  # key generation state: active, or pending during a rotation


def hash_values(conn, family: str, values: Iterable[str]) -> dict[str, str]:
    """value -> 64-hex HMAC-SHA256 keyed by the active salt of `family` (one key lookup)."""
    if family not in HASH_FAMILIES:
        raise ValueError(f"unknown hash family {family!r}; expected one of {HASH_FAMILIES}")
    values = [str(v) for v in values if v is not None]
    rows = conn.execute("SELECT value, hash FROM compliance.hash_many(%s, %s)", (family, values)).fetchall()
    return dict(rows)


def tokenise(conn, family: str, values: Iterable[str]) -> dict[str, str]:
    """value -> stable token from the vault on .118 (compliance_user or compliance_admin)."""
    if family not in TOKEN_FAMILIES:
        raise ValueError(f"unknown token family {family!r}; expected one of {TOKEN_FAMILIES}")
    values = [str(v) for v in values if v is not None]
    rows = conn.execute("SELECT value, token FROM compliance.tokenise_many(%s, %s)", (family, values)).fetchall()
    return dict(rows)


def detokenise(conn, token: str) -> str | None:
    """The original value of `token`. Allowed to compliance_user only; every call is audited."""
    return conn.execute("SELECT compliance.detokenise(%s)", (token,)).fetchone()[0]


def rotate_salt(compliance_conn, family: str, reason: str) -> int:
    """One-shot: retire the active salt of `family` on .118 (its bytes destroyed) and activate a new
    one generated there. Returns its id. Nothing derived is rebuilt: the salt_rotation DAG
    (dataacuity.rotation) is how a rotation of data in use is done."""
    row = compliance_conn.execute("SELECT compliance.rotate_salt(%s, %s)", (family, reason)).fetchone()
    return row[0]


def refresh_hash_keys(warehouse_conn) -> list[KeyState]:
    """Pull the active salts of .118 into the warehouse's protected copy (as warehouse_admin)."""
    rows = warehouse_conn.execute("SELECT * FROM compliance.refresh_hash_keys()").fetchall()
    return [KeyState(*row) for row in rows]


def warehouse_key_states(warehouse_conn, status: str = "active") -> list[KeyState]:
    """The generations loaded in the warehouse's copy (fingerprints, never keys)."""
    rows = warehouse_conn.execute(
        "SELECT salt_family, salt_id, fingerprint, false, status FROM compliance.hash_key_status "
        "WHERE status = %s ORDER BY salt_family",
        (status,),
    ).fetchall()
    return [KeyState(*row) for row in rows]


def compliance_key_states(compliance_conn, status: str = "active") -> list[KeyState]:
    """The generations of .118 in a given state (fingerprints, never keys)."""
    rows = compliance_conn.execute(
        "SELECT salt_family, salt_id, fingerprint, false, status FROM compliance.salt_status "
        "WHERE status = %s ORDER BY salt_family",
        (status,),
    ).fetchall()
    return [KeyState(*row) for row in rows]


def keys_in_sync(warehouse_conn, compliance_conn) -> bool:
    """True when the warehouse's copy holds exactly the active and pending generations of .118."""
    return all(
        warehouse_key_states(warehouse_conn, status) == compliance_key_states(compliance_conn, status)
        for status in ("active", "pending")
    )


# --------------------------------------------------------------------------- set-up


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier, so ALTER ROLE ... PASSWORD never carries the clear password."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def install_key_link(
    warehouse_su,
    compliance_su,
    *,
    host: str,
    port: int,
    dbname: str = "compliance",
) -> list[KeyState]:
    """Point the warehouse's postgres_fdw server at .118, give the link a fresh random password and
    load the key copy. Idempotent (re-running rotates the link password).

    warehouse_su / compliance_su: connections allowed to ALTER the server/user mapping (.106
    superuser or DBA) and to ALTER ROLE warehouse_key_sync (.118 superuser or DBA). The password
    exists only in this function's memory, as a SCRAM verifier on .118 and in the user mapping
    on .106 (visible to superusers only); statement logging is switched off for both statements.
    """
    password = secrets.token_urlsafe(32)
    # The link carries keys wrapped with this (the .118 login of the link reads ciphertext only).
    # Fresh on every install; both hosts get it as a bound parameter, never in statement text.
    wrap_key = secrets.token_bytes(32)
    upsert_wrap = (
        "INSERT INTO compliance.key_wrap (wrap_id, wrap_key) VALUES (1, %s) "
        "ON CONFLICT (wrap_id) DO UPDATE SET wrap_key = EXCLUDED.wrap_key, created_at = now()"
    )
    with compliance_su.transaction():
        quiet_transaction(compliance_su)
        compliance_su.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(KEY_SYNC_ROLE), sql.Literal(scram_verifier(password))
            )
        )
        compliance_su.execute(upsert_wrap, (wrap_key,))
    with warehouse_su.transaction():
        point_server_link(
            warehouse_su,
            server=FDW_SERVER,
            local_role=KEYHOLDER_ROLE,
            remote_user=KEY_SYNC_ROLE,
            password=password,
            host=host,
            port=port,
            dbname=dbname,
        )
        warehouse_su.execute(upsert_wrap, (wrap_key,))
    del password, wrap_key
    # postgres_fdw caches connections per session: refresh in a fresh transaction of this session
    warehouse_su.execute("SELECT postgres_fdw_disconnect_all()")
    states = refresh_hash_keys(warehouse_su)
    log.info("key link installed; warehouse key copy: %s", [(s.salt_family, s.fingerprint) for s in states])
    return states


def install_vault_audit_link(compliance_su, *, host: str, port: int, dbname: str = "compliance") -> None:
    """Give the vault's autonomous audit writer (vault_auditor, INSERT-only) a fresh random password,
    stored only in the .118 user mapping of compliance_keyholder for the dblink server
    `vault_audit` (loopback to this database). Idempotent; same care as install_key_link()."""
    password = secrets.token_urlsafe(32)
    with compliance_su.transaction():
        point_server_link(
            compliance_su,
            server=VAULT_AUDIT_SERVER,
            local_role=KEYHOLDER_ROLE,
            remote_user=VAULT_AUDITOR_ROLE,
            password=password,
            host=host,
            port=port,
            dbname=dbname,
        )
        compliance_su.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(VAULT_AUDITOR_ROLE), sql.Literal(scram_verifier(password))
            )
        )
    del password
