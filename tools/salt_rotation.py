"""Salt rotation from a shell (the same steps as the salt_rotation DAG), against the topology's
AIRFLOW_CONN_* connections.

    python -m tools.salt_rotation status
    python -m tools.salt_rotation run --family all --reason "annual rotation" --requested-by me --confirm "ROTATE SALTS"
    python -m tools.salt_rotation abandon ROTATION_ID --reason "shadow build broken, starting clean"
"""

from __future__ import annotations

import argparse
import json
import os


def _env() -> None:
    if not any(k.startswith("AIRFLOW_CONN_") for k in os.environ):
        from tools import topology

        os.environ.update(topology.connection_env())


def status() -> dict:
    from dataacuity import connections

    with connections.connector(connections.COMPLIANCE)() as conn:
        generations = conn.execute(
            "SELECT salt_family, salt_id, status, fingerprint, activated_at FROM compliance.salt_status "
            "WHERE status <> 'retired' ORDER BY salt_family, status"
        ).fetchall()
        last = conn.execute(
            "SELECT rotation_id, families, status, requested_by, reason, started_at, finished_at, "
            "evidence -> 'swap' ->> 'swap_blocking_ms' FROM compliance.key_rotation ORDER BY rotation_id DESC LIMIT 1"
        ).fetchone()
    return {"generations": generations, "last_rotation": last}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.salt_rotation")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    run = sub.add_parser("run")
    run.add_argument("--family", default="all")
    run.add_argument("--reason", required=True)
    run.add_argument("--requested-by", required=True)
    run.add_argument("--confirm", required=True)
    abandon = sub.add_parser("abandon")
    abandon.add_argument("rotation_id", type=int)
    abandon.add_argument("--reason", required=True)
    args = parser.parse_args(argv)
    _env()
    from dataacuity import rotation

    if args.command == "status":
        print(json.dumps(status(), default=str, indent=2))
    elif args.command == "run":
        request = rotation.parse_request(
            {"family": args.family, "reason": args.reason, "requested_by": args.requested_by, "confirm": args.confirm}
        )
        evidence = rotation.run(request, "shell", rotation.Connectors.from_airflow())
        print(json.dumps(evidence, default=str, indent=2))
    else:
        connectors = rotation.Connectors.from_airflow()
        current = rotation.get_rotation(args.rotation_id, connect_compliance=connectors.compliance)
        rotation.abandon(
            current,
            args.reason,
            connect_compliance=connectors.compliance,
            connect_admin=connectors.admin,
            connect_dbt=connectors.dbt,
        )
        print(f"rotation {args.rotation_id} abandoned")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
