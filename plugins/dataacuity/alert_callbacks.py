"""Airflow callbacks that tell the on-call through Alertmanager. Importable by dotted path.

Every one sends through ``dataacuity.alerting.notify``. When an alert reaches neither Alertmanager
nor the outbox, notify raises AlertDeliveryError: Airflow records the callback as failed (with the
error in the task / triggerer log) -- the task or run it reports on has already failed.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta

log = logging.getLogger(__name__)

DEADLINES_ENV = "DATAACUITY_DEADLINES"  # "off" builds DAGs without deadlines (dag.test, see below)


def task_failure_alert(context) -> None:
    """on_failure_callback: a task failed after its retries -> TaskFailed (P2, a ticket), with the log URL."""
    from dataacuity.alerting import Alert, notify

    ti = context.get("task_instance") or context.get("ti")
    error = context.get("exception")
    if _refused_by_kill_switch(error):
        log.warning("task refused by the engaged kill switch: KillSwitchEngaged already pages, no TaskFailed")
        return
    dag_id = getattr(ti, "dag_id", "unknown")
    task_id = getattr(ti, "task_id", "unknown")
    log_url = getattr(ti, "log_url", "") or ""
    alert = Alert(
        labels={"alertname": "TaskFailed", "severity": "P2", "dag_id": dag_id, "task_id": task_id},
        annotations={
            "summary": f"{dag_id}.{task_id} failed after {getattr(ti, 'try_number', '?')} tries",
            "description": f"{type(error).__name__ if error else 'error'}: {str(error)[:500] if error else ''}",
            "run_id": str(getattr(ti, "run_id", "")),
            "log_url": log_url,
        },
        generator_url=log_url,
    )
    notify([alert])


def _refused_by_kill_switch(error: BaseException | None) -> bool:
    from dataacuity.kill_switch import WritesRefusedError

    return isinstance(error, WritesRefusedError) or isinstance(getattr(error, "__cause__", None), WritesRefusedError)


def deadline_alert(dag_id: str, minutes: int, alertname: str = "ExtractDeadlineMissed"):
    """Airflow 3 Deadline Alert (the replacement for SLAs): a run not finished `minutes` after it
    was queued pages P1. None when DATAACUITY_DEADLINES=off: `dag.test()` in 3.3.2 crashes at the
    end of any DAG with a deadline (apache/airflow#73428), so test runs build DAGs without one."""
    if os.environ.get(DEADLINES_ENV, "on").lower() == "off":
        return None
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(
            deadline_missed,
            kwargs={"dag_id": dag_id, "minutes": minutes, "alertname": alertname},
        ),
    )


FINISHED_STATES = {"success", "failed"}


def deadline_alerts_for(context: dict, *, dag_id: str, minutes: int, alertname: str) -> list:
    """The P1 to send for a missed deadline, or [] when the run already ended.

    3.3.2 fires the callback for runs that FAILED before the deadline too (only success prunes
    deadlines, apache/airflow#60927): those are reported by TaskFailed, not paged twice."""
    from dataacuity.alerting import Alert

    dag_run = (context or {}).get("dag_run") or {}
    state = str(dag_run.get("state", "")).lower().rsplit(".", 1)[-1]
    if state in FINISHED_STATES:
        log.info("deadline callback for %s ignored: run already %s", dag_id, state)
        return []
    run_id = dag_run.get("dag_run_id") or dag_run.get("run_id") or "?"
    deadline = (context or {}).get("deadline") or {}
    return [
        Alert(
            labels={"alertname": alertname, "severity": "P1", "dag_id": dag_id},
            annotations={
                "summary": f"{dag_id} has not finished within {minutes} min of being queued",
                "description": f"run {run_id} state={state or 'unknown'}, deadline {deadline.get('deadline_time', '?')}",
                "run_id": str(run_id),
            },
        )
    ]


async def deadline_missed(context: dict | None = None, **kwargs) -> None:
    """AsyncCallback target (runs in the triggerer)."""
    import asyncio

    from dataacuity.alerting import notify

    alerts = deadline_alerts_for(
        context or {}, dag_id=kwargs["dag_id"], minutes=kwargs["minutes"], alertname=kwargs["alertname"]
    )
    if alerts:
        await asyncio.to_thread(notify, alerts)
