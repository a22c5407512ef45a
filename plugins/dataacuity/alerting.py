"""Alertmanager API v2 client, alert model and durable outbox.

Identity of an alert is its label set (alertname, severity, dag_id | source_db + table | app).
Everything that changes between evaluations -- figures, run ids, timestamps, URLs -- goes into
annotations, never into labels (each distinct label set is a new alert in Alertmanager).

    from dataacuity.alerting import Alert, AlertmanagerClient, send_or_queue, runbook_url

    alert = Alert(
        labels={"alertname": "SourceStale", "severity": "P2",
                "source_db": "ledger_db", "table": "transactions"},
        annotations={"summary": "ledger_db.transactions is 14 min stale",
                     "description": "lag 840 s, expected interval 300 s"},
        generator_url="http://airflow.local/dags/freshness_monitor/runs/...",
    )
    client = AlertmanagerClient.from_connection()     # Airflow conn id "alertmanager"
    send_or_queue(conn, client, [alert])              # never raises when Alertmanager is down
    send_or_queue(conn, client, [alert], resolve=True)
    drain_outbox(conn, client)                        # e.g. every freshness_monitor run

Fire re-sends are expected: Alertmanager resolves an alert without ``endsAt`` after
``resolve_timeout`` (5 m) unless it is sent again, so callers re-fire while the condition holds.

The module imports only the standard library at import time (Airflow is imported lazily in
``base_url_from_connection``; psycopg is only used through the connection passed in).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64encode
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

log = logging.getLogger(__name__)

# One constant: every runbook_url (here, in config/prometheus/rules.yml and in the docs) starts
# with it. Pages live in docs/runbooks/<AlertName>.md.
RUNBOOK_BASE = "https://git.dataacuity.internal/data-platform/bi-pipeline/-/blob/main/docs/runbooks"

SEVERITIES = ("P1", "P2")

# Labels that name the object an alert is about (shared with the inhibit rules and group_by in
# config/alertmanager/alertmanager.yml).
OBJECT_LABELS = ("source_db", "table", "dag_id", "app")

# The alertnames the platform emits; each has docs/runbooks/<name>.md.
KNOWN_ALERTNAMES = (
    "SourceStale",
    "ExtractDeadlineMissed",
    "TransformDeadlineMissed",
    "TaskFailed",
    "PIITestFailed",
    "KillSwitchEngaged",
    "PushBackStale",
    "RTBFSlaAtRisk",
    "RTBFResidualFound",
    "DbtTestFailed",
    "DbtNightlyTestsFailed",
)

_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Label keys that always carry per-run / per-evaluation data.
_FORBIDDEN_LABEL_KEYS = frozenset(
    {
        "run_id",
        "dag_run_id",
        "run",
        "try_number",
        "map_index",
        "batch_id",
        "extract_batch_id",
        "value",
        "values",
        "ts",
        "timestamp",
        "time",
        "date",
        "logical_date",
        "execution_date",
        "data_interval_start",
        "data_interval_end",
        "lag",
        "count",
        "rows",
        "url",
    }
)
_FORBIDDEN_KEY_RE = re.compile(
    r"(^run_|_run_id$|_ts$|_at$|_time$|_date$|_timestamp$|_value$|_seconds$|_minutes$|_count$|_url$)"
)
# Label values that look like timestamps, run ids, UUIDs or measured figures.
_FORBIDDEN_VALUE_RES = (
    ("a date/timestamp", re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}|\d{8}T\d{4,6}")),
    (
        "an Airflow run id",
        re.compile(r"^(manual|scheduled|backfill|dataset_triggered|asset_triggered)__"),
    ),
    (
        "a UUID",
        re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I),
    ),
    ("a number (figures belong in annotations)", re.compile(r"^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$")),
)


class AlertValidationError(ValueError):
    """An alert whose labels/annotations break the identity contract."""


class AlertmanagerError(RuntimeError):
    """Alertmanager did not accept the request."""


class AlertmanagerUnavailable(AlertmanagerError):
    """Connection error, timeout or 5xx after all retries: worth retrying later."""


class AlertmanagerRejected(AlertmanagerError):
    """4xx: the request itself is wrong; retrying the same payload will not help."""


def runbook_url(name: str) -> str:
    """URL of docs/runbooks/<name>.md."""
    return f"{RUNBOOK_BASE}/{name}.md"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _rfc3339(dt: datetime) -> str:
    if dt.tzinfo is None:
        raise AlertValidationError(f"naive datetime {dt!r}: pass a timezone-aware datetime")
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate_labels(labels: Mapping[str, str]) -> None:
    """Raise AlertValidationError unless ``labels`` is a valid identity label set."""
    if not isinstance(labels, Mapping):
        raise AlertValidationError(f"labels must be a mapping, got {type(labels).__name__}")
    problems: list[str] = []
    for key, value in labels.items():
        if not isinstance(key, str) or not _LABEL_NAME_RE.match(key) or key.startswith("__"):
            problems.append(f"label name {key!r} is not a valid Prometheus label name")
            continue
        lowered = key.lower()
        if lowered in _FORBIDDEN_LABEL_KEYS or _FORBIDDEN_KEY_RE.search(lowered):
            problems.append(
                f"label {key!r} carries per-run data (run ids, timestamps, values, URLs): put it in annotations"
            )
            continue
        if not isinstance(value, str):
            problems.append(f"label {key!r} must be a string, got {type(value).__name__}")
            continue
        if value == "":
            problems.append(f"label {key!r} is empty (Alertmanager treats it as absent): omit it")
            continue
        if key in ("alertname", "severity"):
            continue
        for what, pattern in _FORBIDDEN_VALUE_RES:
            if pattern.search(value):
                problems.append(
                    f"label {key}={value!r} looks like {what}: labels are the alert's identity, "
                    "put per-run data in annotations"
                )
                break
    alertname = labels.get("alertname")
    if not isinstance(alertname, str) or not _LABEL_NAME_RE.match(alertname or ""):
        problems.append(f"label 'alertname' is required (CamelCase identifier), got {alertname!r}")
    if labels.get("severity") not in SEVERITIES:
        problems.append(f"label 'severity' must be one of {SEVERITIES}, got {labels.get('severity')!r}")
    if "table" in labels and "source_db" not in labels:
        problems.append("label 'table' needs 'source_db' (a table name alone is ambiguous)")
    if problems:
        raise AlertValidationError("invalid alert labels: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class Alert:
    """One alert. ``labels`` = identity; ``annotations`` = summary, figures, runbook_url, run URL.

    ``runbook_url`` defaults to ``runbook_url(alertname)``. ``starts_at`` is optional: when
    omitted Alertmanager uses the time it first saw the alert.
    """

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    generator_url: str = ""
    starts_at: datetime | None = None

    def __post_init__(self) -> None:
        validate_labels(self.labels)
        annotations = dict(self.annotations)
        for key, value in annotations.items():
            if not isinstance(key, str) or not _LABEL_NAME_RE.match(key):
                raise AlertValidationError(f"annotation name {key!r} is not a valid label name")
            if not isinstance(value, str):
                raise AlertValidationError(
                    f"annotation {key!r} must be a string, got {type(value).__name__} (format figures into the text)"
                )
        if not annotations.get("summary"):
            raise AlertValidationError(f"alert {self.labels['alertname']}: annotation 'summary' is required")
        annotations.setdefault("runbook_url", runbook_url(self.labels["alertname"]))
        if not isinstance(self.generator_url, str):
            raise AlertValidationError("generator_url must be a string")
        if self.starts_at is not None and self.starts_at.tzinfo is None:
            raise AlertValidationError("starts_at must be timezone-aware")
        object.__setattr__(self, "labels", dict(sorted(self.labels.items())))
        object.__setattr__(self, "annotations", annotations)

    @property
    def alertname(self) -> str:
        return self.labels["alertname"]

    @property
    def fingerprint(self) -> str:
        """Stable id of the label set (sha256 of the sorted labels, first 16 hex)."""
        blob = json.dumps(self.labels, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def to_payload(self, *, ends_at: datetime | None = None, starts_at: datetime | None = None) -> dict[str, Any]:
        """The API v2 postable alert. No ``endsAt`` unless given (a firing, re-sendable alert)."""
        payload: dict[str, Any] = {
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
        }
        if self.generator_url:
            payload["generatorURL"] = self.generator_url
        start = starts_at or self.starts_at
        if start is not None:
            payload["startsAt"] = _rfc3339(start)
        if ends_at is not None:
            payload["endsAt"] = _rfc3339(ends_at)
        return payload


def _matcher(key: str, value: str) -> str:
    if not _LABEL_NAME_RE.match(key):
        raise ValueError(f"invalid label name in filter: {key!r}")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


class AlertmanagerClient:
    """Small Alertmanager API v2 client with retries on connection errors, timeouts and 5xx.

    ``retries`` is the number of extra attempts; the waits are ``backoff * 2**n`` seconds.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5,
        retries: int = 3,
        backoff: float = 0.5,
        *,
        auth: tuple[str, str] | None = None,
    ) -> None:
        if not base_url or "://" not in base_url:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            token = b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    def __repr__(self) -> str:
        return f"AlertmanagerClient({self.base_url!r})"

    @classmethod
    def from_connection(cls, conn_id: str = "alertmanager", **kwargs: Any) -> AlertmanagerClient:
        """Client for an Airflow connection (basic auth from login/password when set)."""
        conn = _get_airflow_connection(conn_id)
        if conn.login and "auth" not in kwargs:
            kwargs["auth"] = (conn.login, conn.password or "")
        return cls(_base_url_of(conn), **kwargs)

    # -- transport ---------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(url, data=data, method=method, headers=self._headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    raw = resp.read()
                return json.loads(raw) if raw.strip() else None
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                if exc.code >= 500 or exc.code == 429:
                    last = AlertmanagerUnavailable(f"{method} {url}: HTTP {exc.code}: {detail}")
                    continue
                raise AlertmanagerRejected(f"{method} {url}: HTTP {exc.code}: {detail}") from exc
            except (urllib.error.URLError, OSError) as exc:
                # URLError wraps refused/unresolvable; TimeoutError and ConnectionError are OSErrors
                reason = getattr(exc, "reason", exc)
                last = AlertmanagerUnavailable(f"{method} {url}: {reason}")
        assert last is not None
        raise last

    # -- API ---------------------------------------------------------------------------------
    def post_payloads(self, payloads: Sequence[Mapping[str, Any]]) -> None:
        if payloads:
            self._request("POST", "/api/v2/alerts", list(payloads))

    def fire(self, alerts: Iterable[Alert]) -> None:
        """POST the alerts as firing (no endsAt). Re-send while the condition holds."""
        self.post_payloads([a.to_payload() for a in alerts])

    def resolve(self, alerts: Iterable[Alert], ends_at: datetime | None = None) -> None:
        """POST the same labels with endsAt in the past (now by default), full annotations."""
        end = ends_at or _utcnow()
        self.post_payloads([a.to_payload(ends_at=end) for a in alerts])

    def active_alerts(
        self,
        filter: Mapping[str, str] | None = None,
        *,
        silenced: bool = True,
        inhibited: bool = True,
        unprocessed: bool = True,
        receiver: str | None = None,
    ) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (active ones; inhibited show ``status.state == "suppressed"``)."""
        params: list[tuple[str, str]] = [
            ("active", "true"),
            ("silenced", str(silenced).lower()),
            ("inhibited", str(inhibited).lower()),
            ("unprocessed", str(unprocessed).lower()),
        ]
        params += [("filter", _matcher(k, v)) for k, v in sorted((filter or {}).items())]
        if receiver:
            params.append(("receiver", receiver))
        return self._request("GET", "/api/v2/alerts?" + urllib.parse.urlencode(params)) or []

    def ready(self) -> bool:
        """True when GET /-/ready answers 200 (one attempt, no retries)."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/-/ready", timeout=self.timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False


# -- Airflow connection ------------------------------------------------------------------------
def _get_airflow_connection(conn_id: str) -> Any:
    try:  # Airflow 3 Task SDK (works in tasks, callbacks and plain scripts)
        from airflow.sdk import BaseHook
    except ImportError:  # pragma: no cover - Airflow 2 fallback
        from airflow.hooks.base import BaseHook
    return BaseHook.get_connection(conn_id)


def _base_url_of(conn: Any) -> str:
    host = (conn.host or "").strip()
    if not host:
        raise ValueError(f"Airflow connection {conn.conn_id!r} has no host")
    if "://" in host:  # host given as a full URL (HttpHook convention)
        return host.rstrip("/")
    conn_type = (conn.conn_type or "").lower()
    schema = (conn.schema or "").strip("/")
    if schema in ("http", "https"):  # HttpHook convention: schema = URL scheme
        scheme, prefix = schema, ""
    else:  # URI form http://host:port/prefix puts the path in schema
        scheme = "https" if conn_type == "https" else "http"
        prefix = f"/{schema}" if schema else ""
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{host}{port}{prefix}"


def base_url_from_connection(conn_id: str = "alertmanager") -> str:
    """Base URL from the Airflow connection (locally AIRFLOW_CONN_ALERTMANAGER=http://...)."""
    return _base_url_of(_get_airflow_connection(conn_id))


# -- durable outbox (ops.alert_outbox, include/sql/warehouse/0100_ops_alert_outbox.sql) ---------
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
        cur.executemany(
            f"INSERT INTO {OUTBOX_TABLE} (action, alertname, fingerprint, payload, last_error) "
            "VALUES (%s, %s, %s, %s::jsonb, NULLIF(%s, ''))",
            [(*row, error) for row in rows],
        )
    return len(rows)


def pending_count(conn: Any) -> int:
    """Rows still waiting for delivery (not sent, not given up)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {OUTBOX_TABLE} WHERE sent_at IS NULL AND gave_up_at IS NULL")
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
        cur.execute(
            f"SELECT id, payload FROM {OUTBOX_TABLE} WHERE sent_at IS NULL AND gave_up_at IS NULL "
            "ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED",
            (limit,),
        )
        rows = cur.fetchall()
        for row_id, payload in rows:
            if isinstance(payload, str | bytes):
                payload = json.loads(payload)
            try:
                client.post_payloads([payload])
            except AlertmanagerError as exc:
                cur.execute(
                    f"UPDATE {OUTBOX_TABLE} SET attempts = attempts + 1, last_error = %s, "
                    "last_attempt_at = clock_timestamp() WHERE id = %s",
                    (str(exc)[:2000], row_id),
                )
                if isinstance(exc, AlertmanagerRejected):
                    # Re-sending the same payload cannot succeed; keep the row for inspection
                    # but stop it from blocking the queue.
                    cur.execute(f"UPDATE {OUTBOX_TABLE} SET gave_up_at = clock_timestamp() WHERE id = %s", (row_id,))
                    log.error("alert outbox row %s rejected by Alertmanager, gave up: %s", row_id, exc)
                    continue
                log.error(
                    "alert outbox: Alertmanager still unreachable, %d row(s) left pending: %s",
                    len(rows) - sent,
                    exc,
                )
                break
            cur.execute(
                f"UPDATE {OUTBOX_TABLE} SET attempts = attempts + 1, last_error = NULL, "
                "last_attempt_at = clock_timestamp(), sent_at = clock_timestamp() WHERE id = %s",
                (row_id,),
            )
            sent += 1
    if sent:
        log.info("alert outbox: delivered %d queued alert(s)", sent)
    return sent
