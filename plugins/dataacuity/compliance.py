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

log = logging.getLogger(__name__)

HASH_FAMILIES = ("user", "device", "ip", "email", "phone", "id_number")
TOKEN_FAMILIES = ("email", "phone", "id_number", "name", "address", "device_id", "ip", "dob")
KEY_SYNC_ROLE = "warehouse_key_sync"  # .118 login the warehouse's postgres_fdw link uses
KEYHOLDER_ROLE = "compliance_keyholder"  # .106 owner of the key copy
FDW_SERVER = "compliance_118"


@dataclass(frozen=True)
class KeyState:
    salt_family: str
    salt_id: int
    fingerprint: str  # first 16 hex of sha256(sha256(salt)): comparable across hosts, not reversible
    changed: bool = False


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
    """Retire the active salt of `family` on .118 and generate a new one there. Returns its id.

    Afterwards: refresh_hash_keys() on the warehouse, then a full rebuild of the dbt models
    (dbt build --full-refresh), as the salt_rotation DAG does."""
    row = compliance_conn.execute("SELECT compliance.rotate_salt(%s, %s)", (family, reason)).fetchone()
    return row[0]


def refresh_hash_keys(warehouse_conn) -> list[KeyState]:
    """Pull the active salts of .118 into the warehouse's protected copy (as warehouse_admin)."""
    rows = warehouse_conn.execute("SELECT * FROM compliance.refresh_hash_keys()").fetchall()
    return [KeyState(*row) for row in rows]


def warehouse_key_states(warehouse_conn) -> list[KeyState]:
    rows = warehouse_conn.execute(
        "SELECT salt_family, salt_id, fingerprint FROM compliance.hash_key_status ORDER BY salt_family"
    ).fetchall()
    return [KeyState(*row) for row in rows]


def compliance_key_states(compliance_conn) -> list[KeyState]:
    rows = compliance_conn.execute(
        "SELECT salt_family, salt_id, fingerprint FROM compliance.salt_status WHERE NOT is_retired ORDER BY salt_family"
    ).fetchall()
    return [KeyState(*row) for row in rows]


def keys_in_sync(warehouse_conn, compliance_conn) -> bool:
    """True when the warehouse's key copy holds exactly the active salts of .118."""
    return warehouse_key_states(warehouse_conn) == compliance_key_states(compliance_conn)


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
    with compliance_su.transaction():
        compliance_su.execute("SET LOCAL log_statement = 'none'")
        compliance_su.execute("SET LOCAL log_min_duration_statement = -1")
        compliance_su.execute(
            sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(KEY_SYNC_ROLE), sql.Literal(scram_verifier(password))
            )
        )
    with warehouse_su.transaction():
        warehouse_su.execute("SET LOCAL log_statement = 'none'")
        warehouse_su.execute("SET LOCAL log_min_duration_statement = -1")
        warehouse_su.execute(
            sql.SQL("ALTER SERVER {} OPTIONS (SET host {}, SET port {}, SET dbname {})").format(
                sql.Identifier(FDW_SERVER), sql.Literal(host), sql.Literal(str(port)), sql.Literal(dbname)
            )
        )
        exists = warehouse_su.execute(
            "SELECT 1 FROM pg_user_mappings WHERE srvname = %s AND usename = %s", (FDW_SERVER, KEYHOLDER_ROLE)
        ).fetchone()
        verb = "ALTER USER MAPPING FOR {} SERVER {} OPTIONS (SET user {}, SET password {})"
        if not exists:
            verb = "CREATE USER MAPPING FOR {} SERVER {} OPTIONS (user {}, password {})"
        warehouse_su.execute(
            sql.SQL(verb).format(
                sql.Identifier(KEYHOLDER_ROLE),
                sql.Identifier(FDW_SERVER),
                sql.Literal(KEY_SYNC_ROLE),
                sql.Literal(password),
            )
        )
    del password
    # postgres_fdw caches connections per session: refresh in a fresh transaction of this session
    warehouse_su.execute("SELECT postgres_fdw_disconnect_all()")
    states = refresh_hash_keys(warehouse_su)
    log.info("key link installed; warehouse key copy: %s", [(s.salt_family, s.fingerprint) for s in states])
    return states
