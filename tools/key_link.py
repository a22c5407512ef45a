"""The local topology's .106 -> .118 key link and the vault's audit link
(dataacuity.compliance.install_key_link / install_vault_audit_link over the topology's superuser
connections). Idempotent; ``make up`` runs it.

    python -m tools.key_link [--force]
"""

from __future__ import annotations

import argparse

import psycopg

from dataacuity.compliance import (
    KEYHOLDER_ROLE,
    VAULT_AUDIT_SERVER,
    KeyState,
    install_key_link,
    install_vault_audit_link,
    keys_in_sync,
    warehouse_key_states,
)
from tools import topology


def ensure_local_key_link(force: bool = False) -> list[KeyState]:
    """Install the vault's audit link unless it is in place, and the key link unless the
    warehouse's copy is already in sync with .118."""
    with (
        psycopg.connect(topology.dsn("warehouse", "data_warehouse"), autocommit=True) as warehouse_su,
        psycopg.connect(topology.dsn("compliance", "compliance"), autocommit=True) as compliance_su,
    ):
        audit_link = compliance_su.execute(
            "SELECT 1 FROM pg_user_mappings WHERE srvname = %s AND usename = %s", (VAULT_AUDIT_SERVER, KEYHOLDER_ROLE)
        ).fetchone()
        if force or not audit_link:
            install_vault_audit_link(compliance_su, host="127.0.0.1", port=topology.port("compliance"))
        if not force and keys_in_sync(warehouse_su, compliance_su) and warehouse_key_states(warehouse_su):
            return warehouse_key_states(warehouse_su)
        return install_key_link(warehouse_su, compliance_su, host="127.0.0.1", port=topology.port("compliance"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.key_link", description=__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="re-install even when the copy is in sync")
    args = parser.parse_args(argv)
    for state in ensure_local_key_link(force=args.force):
        print(f"{state.salt_family:<10} salt_id={state.salt_id:<4} fingerprint={state.fingerprint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
