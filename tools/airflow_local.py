"""`make airflow`: Airflow's components against the local topology, each with only its connections.

What `airflow standalone` runs (api-server, scheduler with the LocalExecutor, dag-processor,
triggerer), but started one by one so that each gets only the AIRFLOW_CONN_* variables it needs
(tools/topology.py AIRFLOW_SERVICE_CONNECTIONS, issue 10): the api-server none, the dag-processor
and triggerer only the alerting ones, the scheduler (which runs the tasks) the task connections.
Standalone would hand every credential to every component.

    python -m tools.airflow_local            # Ctrl-C stops every component it started
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tools import topology

# component -> (airflow sub-command, AIRFLOW_SERVICE_CONNECTIONS key)
COMPONENTS = {
    "api-server": (["api-server"], "api-server"),
    "scheduler": (["scheduler"], "local-scheduler"),
    "dag-processor": (["dag-processor"], "dag-processor"),
    "triggerer": (["triggerer"], "triggerer"),
}


def component_env(component: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of one component: `base` without any AIRFLOW_CONN_*, plus its own connections."""
    base = dict(os.environ if base is None else base)
    env = {k: v for k, v in base.items() if not k.startswith("AIRFLOW_CONN_")}
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    env.update(topology.connection_env(COMPONENTS[component][1]))
    return env


def main() -> int:
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], check=True, env=component_env("api-server"))
    children: dict[str, subprocess.Popen] = {}
    for name, (command, _) in COMPONENTS.items():
        children[name] = subprocess.Popen([*airflow, *command], env=component_env(name), start_new_session=True)
        print(f"airflow_local: {name} started (pid {children[name].pid})", flush=True)

    def stop(*_, code: int = 0):
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)  # its own session: the component and its children
        for child in children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        raise SystemExit(code)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"airflow_local: {name} exited with {child.returncode}; stopping the others", file=sys.stderr)
                stop(code=1)
        time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())
