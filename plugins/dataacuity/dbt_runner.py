"""Run dbt in a subprocess on include/dbt with a connection's profile: for what Cosmos does not
render (the salt rotation's shadow build) and for tools, tests and benchmarks.

``run_dbt(["build", ...])``: include/dbt/profiles.yml reads host, user, password and the libpq
extras from DA_DBT_* environment variables that run_dbt fills from the Airflow connection
``warehouse_dbt`` (through dataacuity.connections); no credential is ever in a file. The transform
DAG's tasks get their profile from Cosmos instead (dataacuity.dbt.profile_config).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dataacuity.dbt import DBT_CONN_ID, DBT_PROFILES_DIR, DBT_PROJECT_DIR, DBT_TARGET_DIR

# libpq settings of a connection's extra that include/dbt/profiles.yml passes on to dbt-postgres.
DBT_PROFILE_EXTRAS = ("sslmode", "connect_timeout", "application_name")


def connection_env(conn_id: str = DBT_CONN_ID) -> dict[str, str]:
    """DA_DBT_* variables for include/dbt/profiles.yml from the Airflow connection (via
    dataacuity.connections, so extras such as sslmode reach dbt as they reach every other client)."""
    from dataacuity import connections

    conn = connections.airflow_connection(conn_id)
    extra = connections.libpq_extra(conn)
    unsupported = sorted(set(extra) - set(DBT_PROFILE_EXTRAS))
    if unsupported:  # refuse rather than silently connect without them
        raise ValueError(f"Airflow connection {conn_id!r}: include/dbt/profiles.yml cannot pass on {unsupported}")
    env = {
        "DA_DBT_HOST": conn.host or "127.0.0.1",
        "DA_DBT_PORT": str(conn.port or 5432),
        "DA_DBT_USER": conn.login or "",
        "DBT_ENV_SECRET_DA_DBT_PASSWORD": conn.password or "",
        "DA_DBT_DBNAME": conn.schema or "data_warehouse",
    }
    env.update({f"DA_DBT_{key.upper()}": str(extra[key]) for key in DBT_PROFILE_EXTRAS if key in extra})
    return env


@dataclass
class DbtResult:
    args: list[str]
    returncode: int
    output: str
    run_results: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def statuses(self) -> dict[str, str]:
        """unique_id -> status of every node of the run."""
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}

    def status_of(self, name: str) -> str | None:
        """Status of the node whose unique_id ends with `.name` (a model or a test name)."""
        for unique_id, status in self.statuses().items():
            if unique_id.endswith("." + name) or unique_id.split(".")[-2:-1] == [name]:
                return status
        return None


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str],
    *,
    conn_id: str | None = DBT_CONN_ID,
    target_path: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> DbtResult:
    """Run `dbt <args>` on include/dbt in a subprocess with the profile from `conn_id`.

    Returns the exit code, the console output and target/run_results.json. The password goes
    to the subprocess through DBT_ENV_SECRET_*, which dbt scrubs from its output and logs.
    conn_id=None: no connection (enough for `dbt parse`)."""
    target = Path(target_path) if target_path else DBT_TARGET_DIR
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROFILES_DIR),
        "--target-path",
        str(target),
    ]
    full_env = {**os.environ, **(connection_env(conn_id) if conn_id else {}), **(env or {})}
    full_env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    proc = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    run_results: dict = {}
    results_file = target / "run_results.json"
    if results_file.exists() and args and args[0] not in ("parse", "deps", "clean", "debug"):
        try:
            run_results = json.loads(results_file.read_text())
        except json.JSONDecodeError:
            run_results = {}
    return DbtResult(
        args=list(args), returncode=proc.returncode, output=proc.stdout + proc.stderr, run_results=run_results
    )
