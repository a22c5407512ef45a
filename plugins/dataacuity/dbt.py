"""dbt and Cosmos configuration for the DataAcuity project (include/dbt), in one place.

DAG files stay thin: they call ``project_config()``, ``profile_config()``, ``render_config()``
and ``execution_config()``. Nothing here touches a database or the network at import time;
Cosmos renders from the pre-built manifest (``LoadMode.DBT_MANIFEST``) that set-up produces
with ``python -m tools.build_dbt_manifest``. Cosmos' usage telemetry is off through its Airflow
setting ``[cosmos] enable_telemetry = False`` (AIRFLOW__COSMOS__ENABLE_TELEMETRY), set wherever
Airflow runs (docker-compose.airflow.yml, the Makefile, tests/conftest.py).

Outside Cosmos, dbt runs through ``dataacuity.dbt_runner.run_dbt``.
"""

from __future__ import annotations

from typing import Any

from dataacuity.paths import DBT_PROJECT_DIR

DBT_PROFILES_DIR = DBT_PROJECT_DIR
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"
DBT_PROFILE_NAME = "dataacuity"
DBT_TARGET_NAME = "warehouse"
DBT_CONN_ID = "warehouse_dbt"
DBT_WRITER_ROLE = "dbt_writer"
DEFAULT_SCHEMA = "staging"


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


def execution_config():
    _airflow_first()
    from cosmos import ExecutionConfig
    from cosmos.constants import ExecutionMode, InvocationMode

    return ExecutionConfig(execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER)


def airflow_run_id_env() -> dict[str, str]:
    """Env for Cosmos operators: one dbt_artifacts run_id per DAG run (templated by Airflow)."""
    return {"DA_DBT_RUN_ID": "{{ dag_run.start_date.strftime('%Y%m%dT%H%M%S') }}_{{ dag_run.run_id }}"}


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
