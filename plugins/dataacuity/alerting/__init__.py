"""On-call alerting through Prometheus Alertmanager: the alert model, the Alertmanager client,
the durable outbox and ONE ``notify`` that every sender uses.

How to use::

    from dataacuity.alerting import Alert, notify

    alert = Alert(
        labels={"alertname": "SourceStale", "severity": "P2",
                "source_db": "ledger_db", "table": "transactions"},
        annotations={"summary": "ledger_db.transactions is 14 min stale",
                     "description": "lag 840 s, expected interval 300 s"},
        generator_url="http://airflow.local/dags/freshness_monitor/runs/...",
    )
    notify([alert])                  # "sent", or "queued" in ops.alert_outbox when Alertmanager is down
    notify([alert], resolve=True)    # same labels, endsAt now

``notify`` raises :class:`AlertDeliveryError` when the alerts reached neither Alertmanager nor
the outbox (the payloads are logged at CRITICAL first): a caller that must carry on catches it
and says so. Defaults: the ``alertmanager`` and ``warehouse_monitor`` Airflow connections;
``client=`` / ``connect_outbox=`` override them (the kill switch passes its own).

Identity of an alert is its label set; figures, run ids and URLs go into annotations (see
``model``). Fire re-sends are expected: Alertmanager resolves an alert without ``endsAt`` after
``resolve_timeout`` (5 m) unless it is sent again, so callers re-fire while the condition holds.
Queued alerts are delivered by ``drain_outbox`` (every freshness_monitor run). Delivery is at
least once: a drain interrupted mid-batch re-sends, which Alertmanager de-duplicates by labels.

Modules: ``model`` (Alert, label rules, runbook URLs), ``client`` (AlertmanagerClient, the only
code that talks to Alertmanager), ``outbox`` (ops.alert_outbox; SQL in include/sql/alerting),
``delivery`` (notify). tests/test_architecture.py fails if a second alert path appears.
"""

from dataacuity.alerting.client import (
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerRejected,
    AlertmanagerUnavailable,
    base_url_from_connection,
)
from dataacuity.alerting.delivery import AlertDeliveryError, Delivery, notify
from dataacuity.alerting.model import (
    KNOWN_ALERTNAMES,
    OBJECT_LABELS,
    RUNBOOK_BASE,
    SEVERITIES,
    Alert,
    AlertValidationError,
    runbook_url,
    validate_labels,
)
from dataacuity.alerting.outbox import OUTBOX_TABLE, drain_outbox, pending_count, queue_alerts, send_or_queue

__all__ = [
    "KNOWN_ALERTNAMES",
    "OBJECT_LABELS",
    "OUTBOX_TABLE",
    "RUNBOOK_BASE",
    "SEVERITIES",
    "Alert",
    "AlertDeliveryError",
    "AlertValidationError",
    "AlertmanagerClient",
    "AlertmanagerError",
    "AlertmanagerRejected",
    "AlertmanagerUnavailable",
    "Delivery",
    "base_url_from_connection",
    "drain_outbox",
    "notify",
    "pending_count",
    "queue_alerts",
    "runbook_url",
    "send_or_queue",
    "validate_labels",
]
