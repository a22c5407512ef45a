"""The durable outbox (ops.alert_outbox): alerts that could not be delivered wait here.

``send_or_queue`` delivers now or queues behind older pending alerts (order is kept: a queued fire
never overtakes a later resolve); ``drain_outbox`` delivers the queue oldest first. The SQL is in
include/sql/alerting/outbox_*.sql; the table in include/sql/warehouse/0100_ops_alert_outbox.sql.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from dataacuity.alerting.client import AlertmanagerClient, AlertmanagerError, AlertmanagerRejected
from dataacuity.alerting.model import Alert, _utcnow
from dataacuity.sqlfiles import query

log = logging.getLogger(__name__)

OUTBOX_TABLE = "ops.alert_outbox"


def _outbox_rows(alerts: Sequence[Alert], resolve: bool) -> list[tuple[str, str, str, str]]:
    now = _utcnow()
    rows = []
    for alert in alerts:
        # Keep the moment of the decision: a queued fire keeps its startsAt, a queued resolve
        # its endsAt (in the past when drained).
        payload = alert.to_payload(ends_at=now) if resolve else alert.to_payload(starts_at=alert.starts_at or now)
        rows.append(
            (
                "resolve" if resolve else "fire",
                alert.alertname,
                alert.fingerprint,
                json.dumps(payload),
            )
        )
    return rows


def _warn_if_in_transaction(conn: Any) -> None:
    try:
        from psycopg.pq import TransactionStatus

        if conn.info.transaction_status != TransactionStatus.IDLE:
            log.warning(
                "alert outbox: connection has an open transaction; outbox writes commit only "
                "when the caller commits. Pass an idle or autocommit connection."
            )
    except Exception:  # pragma: no cover - informational only
        pass


def queue_alerts(conn: Any, alerts: Sequence[Alert], resolve: bool = False, error: str = "") -> int:
    """Write alerts into ops.alert_outbox (pending). Returns the number of rows written."""
    rows = _outbox_rows(alerts, resolve)
    _warn_if_in_transaction(conn)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(query("alerting/outbox_queue.sql"), [(*row, error) for row in rows])
    return len(rows)


def pending_count(conn: Any) -> int:
    """Rows still waiting for delivery (not sent, not given up)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("alerting/outbox_pending_count.sql"))
        (n,) = cur.fetchone()
    return int(n)


def send_or_queue(
    conn: Any, client: AlertmanagerClient, alerts: Sequence[Alert], resolve: bool = False
) -> Literal["sent", "queued"]:
    """Send alerts now, or queue them durably in ops.alert_outbox if Alertmanager is unreachable.

    Never raises because Alertmanager is down: logs at ERROR and queues instead. Keeps order: if
    older alerts are still queued they are drained first, and new alerts are queued behind them
    when the outbox cannot be emptied (so a queued fire can never overtake a later resolve).
    Raises only if Alertmanager AND the warehouse both fail (the payloads are logged at CRITICAL
    first, so nothing disappears silently).
    """
    alerts = list(alerts)
    if not alerts:
        return "sent"
    action = "resolve" if resolve else "fire"
    names = ", ".join(sorted({a.alertname for a in alerts}))
    try:
        backlog = pending_count(conn)
        if backlog:
            drain_outbox(conn, client)
            backlog = pending_count(conn)
    except Exception:  # outbox unusable: still try to deliver directly
        log.warning("alert outbox %s unreadable; sending directly", OUTBOX_TABLE, exc_info=True)
        backlog = 0
    if backlog:
        error = f"{backlog} older alert(s) still queued; queued behind them to keep order"
    else:
        try:
            if resolve:
                client.resolve(alerts)
            else:
                client.fire(alerts)
            return "sent"
        except AlertmanagerError as exc:
            error = str(exc)
    try:
        queue_alerts(conn, alerts, resolve=resolve, error=error)
    except Exception:
        log.critical(
            "ALERT MAY BE LOST: Alertmanager failed (%s) and writing %s failed too; %s %s: %s",
            error,
            OUTBOX_TABLE,
            action,
            names,
            json.dumps([a.to_payload() for a in alerts]),
            exc_info=True,
        )
        raise
    log.error(
        "ALERTMANAGER UNREACHABLE: queued %d alert(s) (%s %s) in %s; drain_outbox() delivers "
        "them once it is back. Error: %s",
        len(alerts),
        action,
        names,
        OUTBOX_TABLE,
        error,
    )
    return "queued"


def drain_outbox(conn: Any, client: AlertmanagerClient, limit: int = 500) -> int:
    """Send pending outbox rows oldest first; mark them sent. Returns how many were sent.

    The batch is locked with ``FOR UPDATE SKIP LOCKED`` in one transaction, so concurrent
    drainers never pick the same row; a row marked sent is never sent again. Stops at the first
    Alertmanager outage (rows stay pending with attempts/last_error updated); a row Alertmanager
    rejects (4xx) is recorded and skipped. If the process dies mid-batch the transaction rolls
    back and those rows are sent again by the next drain (harmless: Alertmanager dedups by labels).
    """
    sent = 0
    _warn_if_in_transaction(conn)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("alerting/outbox_lock_pending.sql"), {"limit": limit})
        rows = cur.fetchall()
        for row_id, payload in rows:
            if isinstance(payload, str | bytes):
                payload = json.loads(payload)
            try:
                client.post_payloads([payload])
            except AlertmanagerError as exc:
                # A rejected payload (4xx) cannot succeed when re-sent: keep the row for inspection
                # but stop it from blocking the queue.
                rejected = isinstance(exc, AlertmanagerRejected)
                cur.execute(
                    query("alerting/outbox_mark_failed.sql"),
                    {"error": str(exc)[:2000], "give_up": rejected, "id": row_id},
                )
                if rejected:
                    log.error("alert outbox row %s rejected by Alertmanager, gave up: %s", row_id, exc)
                    continue
                log.error(
                    "alert outbox: Alertmanager still unreachable, %d row(s) left pending: %s",
                    len(rows) - sent,
                    exc,
                )
                break
            cur.execute(query("alerting/outbox_mark_sent.sql"), {"id": row_id})
            sent += 1
    if sent:
        log.info("alert outbox: delivered %d queued alert(s)", sent)
    return sent
