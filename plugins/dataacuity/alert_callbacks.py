"""Airflow callbacks that tell the on-call. Importable by dotted path (DAG files stay thin)."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def task_failure_alert(context) -> None:
    """on_failure_callback: a task failed after its retries. Logs loudly; never raises."""
    ti = context.get("task_instance") or context.get("ti")
    log.error(
        "TASK FAILED: dag=%s task=%s run=%s log=%s",
        getattr(ti, "dag_id", "?"),
        getattr(ti, "task_id", "?"),
        getattr(ti, "run_id", "?"),
        getattr(ti, "log_url", "?"),
    )
