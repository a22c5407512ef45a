"""``notify``: the one way the platform tells the on-call (see dataacuity.alerting for how to use)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Literal

from dataacuity.alerting.client import AlertmanagerClient, AlertmanagerError
from dataacuity.alerting.model import Alert
from dataacuity.alerting.outbox import queue_alerts, send_or_queue

log = logging.getLogger(__name__)

Delivery = Literal["sent", "queued"]


class AlertDeliveryError(RuntimeError):
    """Neither Alertmanager nor the durable outbox took the alerts: the on-call was NOT told."""


def _alertmanager(client: AlertmanagerClient | None) -> tuple[AlertmanagerClient | None, str]:
    if client is not None:
        return client, ""
    from dataacuity import connections

    try:
        return AlertmanagerClient.from_connection(connections.ALERTMANAGER), ""
    except Exception as error:  # no/invalid connection: the outbox keeps the alerts until it is fixed
        return None, f"no Alertmanager client (connection {connections.ALERTMANAGER!r}): {error}"


def notify(
    alerts: Iterable[Alert],
    *,
    resolve: bool = False,
    client: AlertmanagerClient | None = None,
    connect_outbox: Callable[[], Any] | None = None,
) -> Delivery:
    """Fire (or resolve) ``alerts``: "sent" to Alertmanager, or "queued" in the durable outbox.

    Raises AlertDeliveryError when neither took them (after logging the payloads at CRITICAL).
    ``client`` defaults to the ``alertmanager`` Airflow connection, ``connect_outbox`` to the
    ``warehouse_monitor`` connection (role pipeline_monitor, untouched by the kill switch);
    ``connect_outbox`` returns a connection (closed after use) or a context manager yielding one
    (``lambda: contextlib.nullcontext(conn)`` to use a connection the caller keeps).
    """
    alerts = list(alerts)
    if not alerts:
        return "sent"
    names = ", ".join(sorted({a.alertname for a in alerts}))
    action = "resolve" if resolve else "fire"
    client, client_problem = _alertmanager(client)
    if connect_outbox is None:
        from dataacuity import connections

        connect_outbox = connections.connector(connections.WAREHOUSE_MONITOR, autocommit=True)
    try:
        outbox = connect_outbox()
    except Exception as error:
        outbox, outbox_problem = None, f"alert outbox unreachable: {type(error).__name__}: {error}"
    if outbox is None:
        if client is None:
            _lost(action, names, alerts, f"{client_problem}; {outbox_problem}")
        try:
            if resolve:
                client.resolve(alerts)
            else:
                client.fire(alerts)
        except AlertmanagerError as error:
            _lost(action, names, alerts, f"{error}; {outbox_problem}", error)
        log.warning("%s; %s %s sent directly", outbox_problem, action, names)
        return "sent"
    with outbox as conn:
        try:
            if client is None:
                queue_alerts(conn, alerts, resolve=resolve, error=client_problem)
                log.error("ALERT QUEUED, NOT SENT: %s; %s %s waits in the outbox", client_problem, action, names)
                return "queued"
            return send_or_queue(conn, client, alerts, resolve=resolve)
        except Exception as error:
            _lost(
                action, names, alerts, f"{client_problem or 'Alertmanager failed'}; outbox write failed: {error}", error
            )
    raise AssertionError("unreachable")


def _lost(action: str, names: str, alerts: list[Alert], why: str, cause: BaseException | None = None) -> None:
    import json

    log.critical(
        "ALERT NOT DELIVERED (%s %s): %s. Payloads: %s",
        action,
        names,
        why,
        json.dumps([a.to_payload() for a in alerts]),
    )
    raise AlertDeliveryError(f"alert not delivered ({action} {names}): {why}") from cause
