"""The freshness monitor's tasks as plain functions (the DAG file only wires them)."""

from __future__ import annotations

import logging
from typing import Any

from dataacuity import connections
from dataacuity.alerting import Alert, AlertmanagerClient, AlertmanagerError, drain_outbox, notify
from dataacuity.registry import Registry, load_registry

log = logging.getLogger(__name__)

# The monitor runs every 5 minutes: no statement of one run may still be running at the next.
STATEMENT_TIMEOUT = "2min"


UNDELIVERED_ALERTNAME = "AlertsUndelivered"


class AlertsUndeliveredError(RuntimeError):
    """Alerts are waiting in the outbox: the on-call has not been told something. Fails the monitor."""


def outbox_backlog(conn) -> tuple[int, Any, str | None, str | None]:
    """(pending, oldest created_at, alertnames, last error) of the durable alert outbox."""
    from dataacuity.sqlfiles import query

    return tuple(conn.execute(query("alerting/outbox_backlog.sql")).fetchone())


def drain_alert_outbox() -> int:
    """Deliver alerts queued while Alertmanager was unreachable. When it had to hold alerts back
    and is reachable again, page AlertsUndelivered (P1): the on-call missed what the outbox held."""
    client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    with connections.connect(
        connections.WAREHOUSE_MONITOR, autocommit=True, statement_timeout=STATEMENT_TIMEOUT
    ) as conn:
        pending, oldest, names, _ = outbox_backlog(conn)
        sent = drain_outbox(conn, client)
        still_pending = outbox_backlog(conn)[0]
    log.info("alert outbox: %d queued alert(s) delivered, %d still pending", sent, still_pending)
    if pending and not still_pending:
        page = Alert(
            labels={"alertname": UNDELIVERED_ALERTNAME, "severity": "P1"},
            annotations={
                "summary": f"{pending} alert(s) could not be delivered since {oldest}; delivered late just now",
                "description": f"Alertmanager was unreachable; the outbox held: {names}. Check what they said.",
            },
        )
        notify([page], client=client)
    return sent


def assert_alerts_delivered() -> None:
    """The monitor's last task: an alert that cannot be delivered is not success. Raises
    AlertsUndeliveredError (the task fails, loudly) while the outbox cannot drain."""
    with connections.connect(
        connections.WAREHOUSE_MONITOR, autocommit=True, statement_timeout=STATEMENT_TIMEOUT
    ) as conn:
        pending, oldest, names, last_error = outbox_backlog(conn)
    if pending:
        raise AlertsUndeliveredError(
            f"{pending} alert(s) NOT DELIVERED to Alertmanager since {oldest} ({names}); last error: {last_error}. "
            "The on-call has not been told. Check the `alertmanager` connection and Alertmanager itself; "
            "the outbox is delivered by the next run (docs/runbooks/AlertsUndelivered.md)."
        )


def check_source_freshness(registry: Registry | None = None, generator_url: str = "") -> dict:
    """Measure every table, fire SourceStale for the stale ones, resolve the fresh ones that fire."""
    from dataacuity import freshness, kill_switch

    registry = registry or load_registry(partial=True)  # a broken entry must not blind the monitor to the others
    client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    with connections.connect(
        connections.WAREHOUSE_MONITOR, autocommit=True, statement_timeout=STATEMENT_TIMEOUT
    ) as conn:
        # Keep KillSwitchEngaged firing while engaged: it is what inhibits the staleness alerts.
        kill_switch.refire_if_engaged(conn, client, generator_url=generator_url)
        results = freshness.measure(conn, registry)
    log.info("source freshness:\n%s", freshness.report(results))
    firing, resolving = freshness.split_alerts(results, generator_url)
    notify(firing, client=client)
    try:
        active = [a for name in (freshness.STALE, freshness.QUIET) for a in client.active_alerts({"alertname": name})]
    except AlertmanagerError as error:
        log.error("cannot list active alerts (%s); resolving next run", error)
        active = []
    active_keys = {tuple(sorted(a["labels"].items())) for a in active}
    to_resolve = [a for a in resolving if tuple(sorted(a.labels.items())) in active_keys]
    notify(to_resolve, resolve=True, client=client)
    stale = {f.table.key: f.severity for f in results if f.severity}
    quiet = sorted(f.table.key for f in results if f.quiet)
    return {"tables": len(results), "stale": stale, "quiet": quiet, "resolved": len(to_resolve)}


def check_pushback_lag() -> dict:
    """Push-back lag (runbook 10.4) read on .104 over the link: PushBackStale P1 per app when a
    summary is older than 1 hour, resolved (when firing) once it is fresh again."""
    from dataacuity import pushback

    client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    with connections.connect(
        connections.WAREHOUSE_MONITOR, autocommit=True, statement_timeout=STATEMENT_TIMEOUT
    ) as conn:
        lags = pushback.summary_lags(conn)
    for lag in lags:
        log.info(
            "push-back lag %s.%s: %s s (last_updated_at %s)", lag.app, lag.summary, lag.lag_seconds, lag.last_updated_at
        )
    firing, fresh = pushback.stale_alerts(lags)
    notify(firing, client=client)
    try:
        active = client.active_alerts({"alertname": pushback.STALE_ALERTNAME})
    except AlertmanagerError as error:
        log.error("cannot list active alerts (%s); resolving next run", error)
        active = []
    active_keys = {tuple(sorted(a["labels"].items())) for a in active}
    to_resolve = [a for a in fresh if tuple(sorted(a.labels.items())) in active_keys]
    notify(to_resolve, resolve=True, client=client)
    return {"summaries": len(lags), "stale": sorted({a.labels["app"] for a in firing}), "resolved": len(to_resolve)}
