"""The warehouse kill switch from a shell, for when Airflow itself is the problem.

    python -m tools.kill_switch engage  --reason "why writes must stop"   (make kill-switch-engage REASON=...)
    python -m tools.kill_switch release --reason "why writes may resume"  (make kill-switch-release REASON=...)
    python -m tools.kill_switch status [--json]                           (make kill-switch-status)

Same logic as the `kill_switch` DAG (plugins/dataacuity/kill_switch.py) without importing Airflow:
connections come from the AIRFLOW_CONN_* variables already in the environment (URI or JSON form,
as on an Airflow host), else from the local topology (tools.topology.connection_env()). The actor
is $SUDO_USER or $USER (override with --actor). Exit codes: 0 done, 1 failed, 2 bad input,
3 (status only) engaged or inconsistent.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "plugins") not in sys.path:  # `python -m tools.kill_switch` without PYTHONPATH
    sys.path.insert(0, str(REPO / "plugins"))

from dataacuity import connections  # noqa: E402
from dataacuity import kill_switch as ks  # noqa: E402
from dataacuity.alerting import AlertmanagerClient  # noqa: E402

# libpq keywords an Airflow connection URI may carry in its query string
_LIBPQ_KEYS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "options", "target_session_attrs"}


class CliError(RuntimeError):
    pass


def _env() -> dict[str, str]:
    """AIRFLOW_CONN_* from the environment; the local topology's for what is missing."""
    env = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    needed = [connections.WAREHOUSE_ADMIN, connections.COMPLIANCE, connections.WAREHOUSE_MONITOR]
    if all(f"AIRFLOW_CONN_{c.upper()}" in env for c in needed):
        return env
    try:
        from tools import topology

        local = topology.connection_env()
    except Exception as error:
        missing = [f"AIRFLOW_CONN_{c.upper()}" for c in needed if f"AIRFLOW_CONN_{c.upper()}" not in env]
        raise CliError(
            f"{', '.join(missing)} not set and no local topology ({error}). Export the Airflow connection "
            "URIs (as on the Airflow host), or run `make up` for the local topology."
        ) from error
    return {**local, **env}


def _parse(value: str) -> dict[str, Any]:
    """An Airflow connection (URI or JSON) as {host, port, login, password, schema, extra}."""
    value = value.strip()
    if value.startswith("{"):
        data = json.loads(value)
        extra = data.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        return {
            "conn_type": data.get("conn_type"),
            "host": data.get("host"),
            "port": data.get("port"),
            "login": data.get("login"),
            "password": data.get("password"),
            "schema": data.get("schema"),
            "extra": extra,
        }
    parts = urlsplit(value)
    extra = dict(parse_qsl(parts.query))
    return {
        "conn_type": parts.scheme,
        "host": unquote(parts.hostname or ""),
        "port": parts.port,
        "login": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "schema": unquote(parts.path.lstrip("/")),
        "extra": extra,
    }


def pg_connector(env: dict[str, str], conn_id: str) -> Callable[[], Any]:
    key = f"AIRFLOW_CONN_{conn_id.upper()}"
    if key not in env:
        raise CliError(f"{key} is not set")
    conn = _parse(env[key])

    def connect():
        import psycopg

        kwargs = {k: str(v) for k, v in (conn["extra"] or {}).items() if k in _LIBPQ_KEYS}
        kwargs.setdefault("connect_timeout", "10")
        return psycopg.connect(
            host=conn["host"],
            port=conn["port"] or 5432,
            user=conn["login"],
            password=conn["password"],
            dbname=conn["schema"],
            application_name=f"dataacuity:kill_switch_cli:{conn_id}",
            **kwargs,
        )

    return connect


def alert_client(env: dict[str, str]) -> AlertmanagerClient | None:
    key = f"AIRFLOW_CONN_{connections.ALERTMANAGER.upper()}"
    if key not in env:
        print(f"WARNING: {key} not set: the KillSwitchEngaged page is not sent", file=sys.stderr)
        return None
    conn = _parse(env[key])
    if "://" in (conn["host"] or ""):
        base = conn["host"]
    else:
        scheme = "https" if (conn["conn_type"] or "").lower() == "https" else "http"
        port = f":{conn['port']}" if conn["port"] else ""
        prefix = f"/{conn['schema']}" if conn["schema"] else ""
        base = f"{scheme}://{conn['host']}{port}{prefix}"
    auth = (conn["login"], conn["password"] or "") if conn["login"] else None
    return AlertmanagerClient(base, timeout=5, retries=2, backoff=0.5, auth=auth)


def default_actor() -> str:
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or getpass.getuser()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.kill_switch", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in (ks.ENGAGE, ks.RELEASE):
        p = sub.add_parser(name, help=f"{name} the warehouse kill switch")
        p.add_argument("--reason", required=True, help=f"why (at least {ks.MIN_REASON_LENGTH} characters)")
        p.add_argument("--actor", default=None, help="who (default: $SUDO_USER or $USER)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
    p = sub.add_parser("status", help="show the kill switch state")
    p.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        env = _env()
        if args.command == "status":
            with pg_connector(env, connections.WAREHOUSE_ADMIN)() as conn:
                st = ks.status(conn)
            print(json.dumps(st.as_dict(), indent=2) if args.json else st.describe())
            return 0 if (not st.engaged and st.consistent) else 3
        actor = args.actor or default_actor()
        fn = ks.engage if args.command == ks.ENGAGE else ks.release
        result = fn(
            args.reason,
            actor,
            connect_admin=pg_connector(env, connections.WAREHOUSE_ADMIN),
            connect_compliance=pg_connector(env, connections.COMPLIANCE),
            alert_client=alert_client(env),
            connect_monitor=pg_connector(env, connections.WAREHOUSE_MONITOR),
            origin={"via": "cli", "host": socket.gethostname(), "os_user": getpass.getuser()},
        )
    except ks.KillSwitchInputError as error:
        print(f"kill switch: {error}", file=sys.stderr)
        return 2
    except (ks.KillSwitchError, CliError) as error:
        print(f"kill switch FAILED: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # e.g. the warehouse is unreachable: say so, no traceback soup
        print(f"kill switch FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.as_dict(), indent=2, default=str) if args.json else result.message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
