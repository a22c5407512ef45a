"""The freshness monitor's tasks as plain functions (the DAG file only wires them)."""

from __future__ import annotations

import logging

from dataacuity import connections
from dataacuity.alerting import AlertmanagerClient, AlertmanagerError, drain_outbox, notify
from dataacuity.registry import Registry, load_registry

log = logging.getLogger(__name__)


def drain_alert_outbox() -> int:
    """Deliver alerts queued while Alertmanager was unreachable."""
    client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    with connections.connect(connections.WAREHOUSE_MONITOR, autocommit=True) as conn:
        sent = drain_outbox(conn, client)
    log.info("alert outbox: %d queued alert(s) delivered", sent)
    return sent


def check_source_freshness(registry: Registry | None = None, generator_url: str = "") -> dict:
    """Measure every table, fire SourceStale for the stale ones, resolve the fresh ones that fire."""
    from dataacuity import freshness, kill_switch

    registry = registry or load_registry()
    client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    with connections.connect(connections.WAREHOUSE_MONITOR, autocommit=True) as conn:
        # Keep KillSwitchEngaged firing while engaged: it is what inhibits the staleness alerts.
        kill_switch.refire_if_engaged(conn, client, generator_url=generator_url)
        results = freshness.measure(conn, registry)
    log.info("source freshness:\n%s", freshness.report(results))
    firing, resolving = freshness.split_alerts(results, generator_url)
    notify(firing, client=client)
    try:
        active = client.active_alerts({"alertname": "SourceStale"})
    except AlertmanagerError as error:
        log.error("cannot list active alerts (%s); resolving next run", error)
        active = []
    active_keys = {tuple(sorted(a["labels"].items())) for a in active}
    to_resolve = [a for a in resolving if tuple(sorted(a.labels.items())) in active_keys]
    notify(to_resolve, resolve=True, client=client)
    stale = {f.table.key: f.severity for f in results if f.severity}
    return {"tables": len(results), "stale": stale, "resolved": len(to_resolve)}
