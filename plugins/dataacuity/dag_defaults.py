"""What every DataAcuity DAG carries (DESIGN §5), in one place; the DAG policy tests enforce it."""

from __future__ import annotations

from datetime import timedelta

OWNER = "data-platform"
# Celery queue of the DAGs that need the compliance/admin credentials (kill switch, foundation audit,
# salt rotation, right-to-be-forgotten): only the compliance worker consumes it and only it holds
# those connections (tools/topology.py AIRFLOW_SERVICE_CONNECTIONS, docker-compose.airflow.yml).
COMPLIANCE_QUEUE = "compliance"
ALLOWED_TAGS = frozenset({"extract", "transform", "compliance", "monitoring", "foundation", "pushback"})


def default_args(**overrides) -> dict:
    """default_args for a DataAcuity DAG: owner, retries with backoff, failure alerting."""
    from dataacuity.alert_callbacks import task_failure_alert

    args = {
        "owner": OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "on_failure_callback": task_failure_alert,
    }
    args.update(overrides)
    return args
