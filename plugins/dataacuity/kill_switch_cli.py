"""``dataacuity-kill-switch``: the warehouse kill switch from a shell on the Airflow host, for when
the scheduler itself is the problem (runbook: docs/runbooks/KillSwitchEngaged.md).

    dataacuity-kill-switch engage  --reason "why writes must stop"    (make kill-switch-engage REASON=...)
    dataacuity-kill-switch release --reason "why writes may resume"   (make kill-switch-release REASON=...)
    dataacuity-kill-switch status [--json]                            (make kill-switch-status)

Also ``python -m dataacuity.kill_switch_cli``. The same action as the ``kill_switch`` DAG
(dataacuity.kill_switch.run_action); connections are the Airflow connections as any task sees
them (AIRFLOW_CONN_* variables, a secrets backend or the metadata DB): warehouse_admin,
compliance_118, warehouse_monitor, alertmanager. No scheduler, worker or API server is needed.
The actor is $SUDO_USER or $USER (override with --actor). Exit codes: 0 done, 1 failed, 2 bad
input, 3 (status only) engaged or inconsistent.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import socket
import sys

from dataacuity import kill_switch as ks

PROG = "dataacuity-kill-switch"


def default_actor() -> str:
    return os.environ.get("SUDO_USER") or os.environ.get("USER") or getpass.getuser()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
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
        if args.command == "status":
            st = ks.current_status()
            print(json.dumps(st.as_dict(), indent=2) if args.json else st.describe())
            return 0 if (not st.engaged and st.consistent) else 3
        result = ks.run_action(
            args.command,
            args.reason,
            args.actor or default_actor(),
            origin={"via": "cli", "host": socket.gethostname(), "os_user": getpass.getuser()},
        )
    except ks.KillSwitchInputError as error:
        print(f"kill switch: {error}", file=sys.stderr)
        return 2
    except ks.KillSwitchError as error:
        print(f"kill switch FAILED: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # e.g. the warehouse is unreachable: say so, no traceback soup
        print(f"kill switch FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result.as_dict(), indent=2, default=str) if args.json else result.message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
