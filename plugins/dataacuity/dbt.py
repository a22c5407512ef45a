"""dbt and Cosmos configuration for the DataAcuity project (include/dbt), in one place.

DAG files stay thin: they call ``project_config()``, ``profile_config()``, ``render_config()``
and ``execution_config()``. Nothing here touches a database or the network at import time;
Cosmos renders from the pre-built manifest (``LoadMode.DBT_MANIFEST``) that set-up produces
with ``python -m tools.build_dbt_manifest``.

Tools and tests run dbt with ``run_dbt(["build", ...])``: the profile (include/dbt/profiles.yml)
reads host, user and password from environment variables that run_dbt fills from the Airflow
connection ``warehouse_dbt`` (AIRFLOW_CONN_WAREHOUSE_DBT); no credential is ever in a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO / "include" / "dbt"
DBT_PROFILES_DIR = DBT_PROJECT_DIR
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"
SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"
DBT_PROFILE_NAME = "dataacuity"
DBT_TARGET_NAME = "warehouse"
DBT_CONN_ID = "warehouse_dbt"
DBT_WRITER_ROLE = "dbt_writer"
DEFAULT_SCHEMA = "staging"

FRESHNESS_WARN_FACTOR = 2  # runbook 1.6: warn when older than 2x the expected interval
FRESHNESS_ERROR_FACTOR = 4


# --------------------------------------------------------------------------- sources from the registry


def render_sources(registry) -> str:
    """include/dbt/models/staging/_sources.yml generated from config/sources.yml.

    One dbt source per source database (schema raw, tables raw.<db>__<table>), freshness from
    the registry (loaded_at_field = event time or extract time; warn at 2x, error at 4x the
    expected interval) and every PII column with meta.pii_class (read by the PII tests)."""
    import yaml

    sources = []
    for source in registry.sources:
        tables = []
        for table in source.tables:
            interval = table.expected_interval_minutes
            columns = []
            for column in table.primary_key:
                columns.append(
                    {"name": column, "description": "Primary key (registry).", "meta": {"primary_key": True}}
                )
            if table.user_column and table.user_column not in table.primary_key:
                columns.append(
                    {
                        "name": table.user_column,
                        "description": "auth_db.users.id of the row's user (right-to-be-forgotten link).",
                        "meta": {"user_column": True},
                    }
                )
            for column, pii_class in table.pii.items():
                columns.append({"name": column, "description": f"PII ({pii_class}).", "meta": {"pii_class": pii_class}})
            tables.append(
                {
                    "name": table.raw_table,
                    "description": table.description or f"{table.key} as extracted ({table.kind}, {table.mode}).",
                    "config": {
                        "loaded_at_field": table.freshness_column or "_extracted_at",
                        "freshness": {
                            "warn_after": {"count": FRESHNESS_WARN_FACTOR * interval, "period": "minute"},
                            "error_after": {"count": FRESHNESS_ERROR_FACTOR * interval, "period": "minute"},
                        },
                        "meta": {
                            "source_db": table.source_db,
                            "source_table": table.name,
                            "app": table.app,
                            "kind": table.kind,
                            "mode": table.mode,
                            "expected_interval_minutes": interval,
                            "user_column": table.user_column,
                        },
                    },
                    "columns": columns,
                }
            )
        sources.append(
            {
                "name": source.name,
                "description": source.description or f"{source.name} ({source.app})",
                "schema": "raw",
                "config": {"meta": {"app": source.app}},
                "tables": tables,
            }
        )
    header = (
        "# GENERATED from config/sources.yml by `python -m tools.build_dbt_manifest --write-sources`.\n"
        "# Do not edit: change the registry and regenerate (tests/test_dbt_project.py checks they agree).\n"
    )
    return header + yaml.safe_dump({"version": 2, "sources": sources}, sort_keys=False, width=120)


def staging_model_path(table) -> Path:
    return DBT_PROJECT_DIR / "models" / "staging" / table.source_db / f"{table.staging_model}.sql"


# --------------------------------------------------------------------------- Cosmos configuration


def _airflow_first() -> None:
    """Cosmos must be imported after Airflow is initialised (else a circular import via its plugin)."""
    import airflow.sdk  # noqa: F401


def project_config(**overrides):
    _airflow_first()
    from cosmos import ProjectConfig

    kwargs: dict[str, Any] = {
        "dbt_project_path": DBT_PROJECT_DIR,
        "manifest_path": MANIFEST_PATH,
        "project_name": "dataacuity",
        "partial_parse": True,
    }
    kwargs.update(overrides)
    return ProjectConfig(**kwargs)


def profile_config(conn_id: str = DBT_CONN_ID):
    """dbt profile built by Cosmos from the Airflow connection (password via env var, never a file)."""
    _airflow_first()
    from cosmos import ProfileConfig
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return ProfileConfig(
        profile_name=DBT_PROFILE_NAME,
        target_name=DBT_TARGET_NAME,
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=conn_id,
            profile_args={"schema": DEFAULT_SCHEMA, "role": DBT_WRITER_ROLE, "threads": 1, "connect_timeout": 10},
        ),
    )


def render_config(**overrides):
    """Manifest-based rendering (no dbt, no DB at parse), a test task after each model."""
    _airflow_first()
    from cosmos import RenderConfig
    from cosmos.constants import LoadMode, TestBehavior

    kwargs: dict[str, Any] = {
        "load_method": LoadMode.DBT_MANIFEST,
        "test_behavior": TestBehavior.AFTER_EACH,
        "exclude": ["path:models/leaky"],
        "emit_datasets": True,
    }
    kwargs.update(overrides)
    return RenderConfig(**kwargs)


def disable_cosmos_telemetry() -> None:
    """Cosmos posts usage metrics to an external host after every task: not from here."""
    _airflow_first()
    from cosmos import settings

    settings.enable_telemetry = False


def execution_config():
    _airflow_first()
    from cosmos import ExecutionConfig
    from cosmos.constants import ExecutionMode, InvocationMode

    return ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER)


def airflow_run_id_env() -> dict[str, str]:
    """Env for Cosmos operators: one dbt_artifacts run_id per DAG run (templated by Airflow)."""
    return {"DA_DBT_RUN_ID": "{{ dag_run.start_date.strftime('%Y%m%dT%H%M%S') }}_{{ dag_run.run_id }}"}


# --------------------------------------------------------------------------- running dbt from tools and tests


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


# --------------------------------------------------------------------------- alerting


NIGHTLY_ALERTNAME = "DbtNightlyTestsFailed"


def nightly_tests_failed_alert(context) -> None:
    """on_failure_callback of the nightly full test run (runbook 2.9): page P1 through notify
    (which raises AlertDeliveryError when the page reached neither Alertmanager nor the outbox)."""
    from dataacuity.alerting import Alert, notify

    ti = context.get("task_instance") or context.get("ti")
    error = context.get("exception")
    dag_id = getattr(ti, "dag_id", "nightly_dbt_tests")
    log_url = getattr(ti, "log_url", "") or ""
    alert = Alert(
        labels={"alertname": NIGHTLY_ALERTNAME, "severity": "P1", "dag_id": dag_id},
        annotations={
            "summary": "Nightly full dbt test run failed: a PII, contract, k-anonymity or data test failed",
            "description": (
                f"{type(error).__name__ if error else 'error'}: {str(error)[:800] if error else ''} "
                "-- failing tests: SELECT * FROM dbt_artifacts.test_results WHERE run_id = "
                "(SELECT max(run_id) FROM dbt_artifacts.test_results) AND status <> 'pass'"
            ),
            "run_id": str(getattr(ti, "run_id", "")),
            "log_url": log_url,
        },
        generator_url=log_url,
    )
    notify([alert])
