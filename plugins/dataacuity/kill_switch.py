"""The warehouse kill switch (security posture §7): one action that stops all data flow into the warehouse.

Enforced by the database, not by convention:

- **engage** (one warehouse transaction, as ``warehouse_admin``): lock ``ops.kill_switch``, revoke
  ``etl_writer`` from ``etl_user`` and ``dbt_writer`` from ``dbt_runner`` (both are NOINHERIT and
  write only after ``SET ROLE``, so every write path is gone), record who/when/why in the row,
  commit; then end every open session of ``etl_user`` and ``dbt_runner`` (a session that had
  already switched to a writer role keeps it until it ends; terminating AFTER the commit means a
  reconnect can no longer switch). Then the P1 ``KillSwitchEngaged`` alert (Alertmanager inhibits
  SourceStale/PushBackStale while it fires) and a ``kill_switch_engaged`` row in
  ``compliance.incident_log`` on .118.
- **release** reverses it: grants back, state row, resolve the alert, ``kill_switch_released`` row.
  Nothing is lost: the extracts never advanced their watermarks while refused, so the next runs
  re-read everything since (plus their look-back windows).
- Both are idempotent: engaging an engaged switch changes nothing (``changed=False``, "already
  engaged"), re-fires the alert and ends any writer session that appeared; a retry after a
  failure half-way (e.g. the compliance DB was down) completes the missing record exactly once.
- **Airflow side**: write tasks call :func:`assert_writes_allowed` (or wrap their warehouse
  connector with :func:`guarded`) BEFORE they start; it raises :class:`WritesRefusedError`
  saying who engaged it, when and why. A write the database refuses mid-run raises the same type.

Plain Python (psycopg + the standard library): connections are zero-argument callables, so tests
and the ``dataacuity-kill-switch`` command (dataacuity/kill_switch_cli.py; the ``make
kill-switch-*`` targets, for when the scheduler itself is the problem) run it without a scheduler.
The page goes through ``dataacuity.alerting.notify``.

    from dataacuity import kill_switch
    result = kill_switch.engage("PII found in raw.kyc_db__documents", "jane",
                                connect_admin=..., connect_compliance=...,
                                alert_client=client, connect_monitor=...)
    print(result.message)        # "kill switch ENGAGED by jane ..." / "already engaged by ..."
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dataacuity.alerting import Alert, AlertmanagerClient, notify, runbook_url
from dataacuity.sqlfiles import query

log = logging.getLogger(__name__)

# login role -> the NOLOGIN group role it writes through (include/sql/roles/warehouse.sql)
WRITER_ROLES: Mapping[str, str] = {"etl_user": "etl_writer", "dbt_runner": "dbt_writer"}

ENGAGE = "engage"
RELEASE = "release"
ACTIONS = (ENGAGE, RELEASE)
# What the person must type to confirm (the DAG's trigger form validates it; re-checked here).
CONFIRMATIONS: Mapping[str, str] = {ENGAGE: "STOP ALL WAREHOUSE WRITES", RELEASE: "RESUME WAREHOUSE WRITES"}
MIN_REASON_LENGTH = 10

ALERTNAME = "KillSwitchEngaged"
# No object label (alerting.OBJECT_LABELS): the switch is about the whole warehouse. The inhibit
# rules of config/alertmanager/alertmanager.yml rely on that -- a P1 with no object label never
# hides an unrelated P2, and alertname="KillSwitchEngaged" inhibits SourceStale/PushBackStale.
ALERT_LABELS: Mapping[str, str] = {"alertname": ALERTNAME, "severity": "P1"}
INCIDENT_KINDS: Mapping[str, str] = {ENGAGE: "kill_switch_engaged", RELEASE: "kill_switch_released"}
# changed_by of the row as the migration created it (include/sql/warehouse/0102_kill_switch.sql).
INITIAL_STATE_ACTOR = "migration 0102"
TERMINATE_TIMEOUT_MS = 5000
LOCK_TIMEOUT = "15s"

RELEASE_HOW = (
    "Release: Airflow DAG `kill_switch` with action=release, or `make kill-switch-release REASON=...` "
    "(do not re-grant the roles by hand)"
)

Connect = Callable[[], Any]  # zero-argument callable returning a psycopg connection


class KillSwitchError(RuntimeError):
    """The kill switch could not do all it should; the message says what is done and what is not."""


class KillSwitchInputError(KillSwitchError, ValueError):
    """Bad action, reason, actor or confirmation phrase. Nothing was changed."""


class KillSwitchRecordError(KillSwitchError):
    """The switch was applied, but a record/alert/termination step failed: rerun the same action."""


class WritesRefusedError(RuntimeError):
    """Warehouse writes are refused: the one exception type for it, wherever it is noticed.

    Raised before a write task starts (``status`` says who engaged the kill switch, when, why) and
    when the database refuses a write mid-run (``status`` is None). Not worth retrying until release.
    """

    def __init__(self, message: str, status: KillSwitchStatus | None = None) -> None:
        super().__init__(message)
        self.status = status


KillSwitchEngagedError = WritesRefusedError  # the old name, kept for code written against it


@dataclasses.dataclass(frozen=True)
class KillSwitchStatus:
    """ops.kill_switch (who changed it, when, why) plus the live truth from the catalog."""

    engaged: bool
    changed_at: datetime
    changed_by: str
    reason: str
    etl_writer_member: bool
    dbt_writer_member: bool
    writer_sessions: int | None = None
    session_role: str | None = None

    @property
    def writes_revoked(self) -> bool:
        """The database refuses every write (both memberships are gone)."""
        return not self.etl_writer_member and not self.dbt_writer_member

    @property
    def writes_allowed(self) -> bool:
        return self.etl_writer_member and self.dbt_writer_member

    @property
    def consistent(self) -> bool:
        """The recorded state agrees with the memberships."""
        return self.writes_revoked if self.engaged else self.writes_allowed

    @property
    def when(self) -> str:
        return self.changed_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()

    def describe(self) -> str:
        state = "ENGAGED (warehouse writes stopped)" if self.engaged else "released (warehouse writes allowed)"
        text = f"kill switch {state}; last changed by {self.changed_by} at {self.when}: {self.reason}"
        text += (
            f" | etl_user->etl_writer: {'yes' if self.etl_writer_member else 'REVOKED'},"
            f" dbt_runner->dbt_writer: {'yes' if self.dbt_writer_member else 'REVOKED'}"
        )
        if self.writer_sessions is not None:
            text += f", open etl_user/dbt_runner sessions: {self.writer_sessions}"
        if not self.consistent:
            text += (
                " | INCONSISTENT: the memberships do not match the recorded state (a manual GRANT/REVOKE "
                "or an interrupted engage/release): run the intended action again"
            )
        return text

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["changed_at"] = self.changed_at.isoformat()
        data["consistent"] = self.consistent
        return data


@dataclasses.dataclass
class KillSwitchResult:
    """What one engage/release did. ``changed`` is False when it was already in that state."""

    action: str
    actor: str
    changed: bool
    status: KillSwitchStatus
    roles: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sessions_terminated: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    incident_id: int | None = None
    alert: str = "not sent"
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def message(self) -> str:
        st = self.status
        if self.action == ENGAGE:
            head = "kill switch ENGAGED" if self.changed else "kill switch already engaged"
        else:
            head = "kill switch RELEASED" if self.changed else "kill switch already released"
        text = f"{head} (by {st.changed_by} at {st.when}: {st.reason})"
        if self.action == ENGAGE:
            text += f"; {len(self.sessions_terminated)} etl_user/dbt_runner session(s) terminated"
        text += f"; alert {self.alert}; incident_log id {self.incident_id}"
        if self.errors:
            text += "; ERRORS: " + " | ".join(self.errors)
        return text

    def as_dict(self) -> dict[str, Any]:
        """XCom-/JSON-safe summary (no credentials)."""
        return {
            "action": self.action,
            "actor": self.actor,
            "changed": self.changed,
            "message": self.message,
            "status": self.status.as_dict(),
            "roles": self.roles,
            "sessions_terminated": self.sessions_terminated,
            "incident_id": self.incident_id,
            "alert": self.alert,
            "errors": list(self.errors),
        }


# -- input checks ------------------------------------------------------------------------------
def check_action(action: str) -> str:
    if action not in ACTIONS:
        raise KillSwitchInputError(f"action must be one of {ACTIONS}, got {action!r}")
    return action


def check_confirmation(action: str, confirm: str | None) -> None:
    """The typed phrase must match the action exactly (so 'release' cannot be confirmed by accident)."""
    expected = CONFIRMATIONS[check_action(action)]
    if (confirm or "").strip() != expected:
        raise KillSwitchInputError(
            f"confirmation phrase for {action!r} must be exactly {expected!r}, got {confirm!r}: nothing was changed"
        )


def check_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if len(text) < MIN_REASON_LENGTH:
        raise KillSwitchInputError(
            f"a reason of at least {MIN_REASON_LENGTH} characters is required (it goes into the incident log "
            f"and the page), got {reason!r}: nothing was changed"
        )
    return text


def check_actor(actor: str | None) -> str:
    text = (actor or "").strip()
    if not text:
        raise KillSwitchInputError("the actor (who is doing this) is required: nothing was changed")
    return text


# -- status and the write guard ------------------------------------------------------------------
def _status_from_row(row: Sequence[Any], **extra: Any) -> KillSwitchStatus:
    engaged, changed_at, changed_by, reason, etl_member, dbt_member = row[:6]
    return KillSwitchStatus(bool(engaged), changed_at, changed_by, reason, bool(etl_member), bool(dbt_member), **extra)


def status(conn: Any) -> KillSwitchStatus:
    """The kill switch status, read with ``conn`` (etl_user, dbt_runner, pipeline_monitor or warehouse_admin)."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(query("kill_switch/status.sql"))
        row = cur.fetchone()
    if row is None:
        raise KillSwitchError(
            "ops.kill_switch has no row: apply include/sql/warehouse/0102_kill_switch.sql (`make up` locally)"
        )
    return _status_from_row(row, writer_sessions=int(row[6]), session_role=row[7])


def refusal_message(st: KillSwitchStatus) -> str:
    if st.engaged:
        head = (
            f"Warehouse writes are stopped: the kill switch was engaged by {st.changed_by} at {st.when} "
            f"-- reason: {st.reason!r}."
        )
    else:
        head = (
            f"Warehouse writes are revoked for {st.session_role} although ops.kill_switch says released "
            f"(last changed by {st.changed_by} at {st.when}: {st.reason!r}) -- an interrupted engage/release "
            "or a manual REVOKE."
        )
    return (
        f"{head} This task refused to start and wrote nothing; the next run after release catches up "
        f"(nothing is lost). {RELEASE_HOW}. Runbook: {runbook_url(ALERTNAME)}"
    )


def assert_writes_allowed(conn: Any) -> KillSwitchStatus:
    """Raise WritesRefusedError (who/when/why) if warehouse writes are stopped; else return the status.

    Call it with the task's own warehouse connection BEFORE the task writes anything. It raises
    when the switch is engaged, and also when the session's own write membership is gone while
    the switch says released (the database would refuse the writes anyway).
    """
    st = status(conn)
    own_writer = WRITER_ROLES.get(st.session_role or "")
    own_member = {"etl_writer": st.etl_writer_member, "dbt_writer": st.dbt_writer_member}.get(own_writer or "", True)
    if st.engaged or not own_member:
        raise WritesRefusedError(refusal_message(st), st)
    return st


def guarded(connect: Connect) -> Connect:
    """Wrap a warehouse connector so each new connection first checks the kill switch.

    ``extract_table(table, connect_replica, kill_switch.guarded(connect_warehouse))`` fails fast
    with WritesRefusedError (who/when/why) before anything is read or written.
    """

    def connect_checked() -> Any:
        conn = connect()
        try:
            assert_writes_allowed(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    return connect_checked


# -- the alert ---------------------------------------------------------------------------------
def kill_switch_alert(st: KillSwitchStatus, *, generator_url: str = "", extra: str = "") -> Alert:
    """The P1 KillSwitchEngaged alert for a status (annotations carry who/when/why)."""
    if st.engaged:
        summary = f"Warehouse kill switch ENGAGED by {st.changed_by}: {st.reason}"
        description = (
            f"Engaged at {st.when}. Every write into the warehouse is refused (etl_writer/dbt_writer revoked, "
            f"writer sessions ended); extract and dbt failures and staleness are expected and inhibited. "
            f"{RELEASE_HOW}."
        )
    else:
        summary = f"Warehouse kill switch released by {st.changed_by}: {st.reason}"
        description = f"Released at {st.when}; warehouse writes are allowed again and the next runs catch up."
    if extra:
        description += " " + extra
    return Alert(
        labels=dict(ALERT_LABELS),
        annotations={
            "summary": summary,
            "description": description,
            "changed_by": st.changed_by,
            "changed_at": st.changed_at.isoformat(),
        },
        generator_url=generator_url,
    )


def _send_alert(
    st: KillSwitchStatus,
    *,
    resolve: bool,
    alert_client: AlertmanagerClient | None,
    connect_monitor: Connect | None,
    generator_url: str,
) -> tuple[str, str | None]:
    """Fire/resolve KillSwitchEngaged through notify: ('sent' | 'queued' | 'not sent: ...', error or None).

    Never raises (the page must never undo the switch); a delivery failure comes back as the error."""
    if alert_client is None:
        log.error("KillSwitchEngaged NOT %s: no Alertmanager client given", "resolved" if resolve else "fired")
        return "not sent: no Alertmanager client", None
    try:
        alert = kill_switch_alert(st, generator_url=generator_url)
        return notify([alert], resolve=resolve, client=alert_client, connect_outbox=connect_monitor), None
    except Exception as error:  # AlertDeliveryError, or a bad alert
        text = f"not sent: {type(error).__name__}: {error}"[:500]
        return text, f"the KillSwitchEngaged page was {text}"


def refire_if_engaged(monitor_conn: Any, alert_client: AlertmanagerClient, *, generator_url: str = "") -> str | None:
    """For the freshness monitor (every 5 min, pipeline_monitor connection): keep KillSwitchEngaged
    firing while the switch is engaged (Alertmanager resolves an alert that is not re-sent within
    resolve_timeout, which would also end the staleness inhibition). Returns the send result, or
    None when the switch is released. Raises AlertDeliveryError when the page reached nothing."""
    st = status(monitor_conn)
    if not st.engaged:
        return None
    return notify(
        [kill_switch_alert(st, generator_url=generator_url)],
        client=alert_client,
        connect_outbox=lambda: contextlib.nullcontext(monitor_conn),
    )


# -- engage / release ----------------------------------------------------------------------------
def _conn_target(conn: Any) -> dict[str, Any]:
    try:
        info = conn.info
        return {"host": info.host, "port": info.port, "dbname": info.dbname}
    except Exception:  # pragma: no cover - informational only
        return {}


def _apply(action: str, reason: str, actor: str, connect_admin: Connect, terminate_timeout_ms: int):
    """The warehouse part: one transaction (+ terminations after commit on engage)."""
    engaging = action == ENGAGE
    with connect_admin() as conn:
        target = _conn_target(conn)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_TIMEOUT,))
            cur.execute(query("kill_switch/lock_state.sql"))
            row = cur.fetchone()
            if row is None:
                raise KillSwitchError(
                    "ops.kill_switch has no row: apply include/sql/warehouse/0102_kill_switch.sql (`make up` locally)"
                )
            before = _status_from_row(row)
            if engaging:
                already = before.engaged and before.writes_revoked
            else:
                already = not before.engaged and before.writes_allowed
            roles = [
                {"member": "etl_user", "role": "etl_writer", "was_member": before.etl_writer_member},
                {"member": "dbt_runner", "role": "dbt_writer", "was_member": before.dbt_writer_member},
            ]
            if already:
                after = before
            else:
                cur.execute(query("kill_switch/engage.sql" if engaging else "kill_switch/release.sql"))
                cur.execute(
                    query("kill_switch/set_state.sql"),
                    {"engaged": engaging, "actor": actor, "reason": reason},
                )
                cur.execute(query("kill_switch/lock_state.sql"))  # what this transaction will commit
                after = _status_from_row(cur.fetchone())
                if after.engaged != engaging or not after.consistent:
                    raise KillSwitchError(
                        f"kill switch {action}: unexpected state after the change ({after}); rolled back"
                    )
            for role in roles:
                role["is_member"] = after.etl_writer_member if role["member"] == "etl_user" else after.dbt_writer_member
        terminated: list[dict[str, Any]] = []
        errors: list[str] = []
        if engaging:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(
                        query("kill_switch/terminate_sessions.sql"),
                        {"roles": list(WRITER_ROLES), "timeout_ms": terminate_timeout_ms},
                    )
                    for pid, usename, app, addr, started, state, ok in cur.fetchall():
                        terminated.append(
                            {
                                "pid": pid,
                                "usename": usename,
                                "application_name": app,
                                "client_addr": addr,
                                "backend_start": started.isoformat() if started else None,
                                "state": state,
                                "terminated": bool(ok),
                            }
                        )
                not_ended = [s["pid"] for s in terminated if not s["terminated"]]
                if not_ended:
                    errors.append(
                        f"session(s) {not_ended} did not end within {terminate_timeout_ms} ms: rerun engage, "
                        "or pg_terminate_backend them as a superuser"
                    )
            except Exception as error:
                log.error("kill switch: terminating writer sessions failed: %s", error, exc_info=True)
                errors.append(f"terminating the writer sessions failed: {error}; rerun engage")
    return already, after, roles, terminated, errors, target


def _record(
    action: str,
    st: KillSwitchStatus,
    changed: bool,
    connect_compliance: Connect,
    details: dict[str, Any],
) -> int | None:
    """compliance.incident_log row for this state change (exactly once, also across retries)."""
    kind = INCIDENT_KINDS[action]
    state_changed_at = st.changed_at.astimezone(UTC).isoformat()  # same text whatever the session TimeZone
    with connect_compliance() as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute(query("kill_switch/incident_exists.sql"), {"kind": kind, "state_changed_at": state_changed_at})
        found = cur.fetchone()
        if found is not None:
            return int(found[0])
        if not changed and st.changed_by == INITIAL_STATE_ACTOR:
            return None  # the migration's initial state is not an incident
        payload = {**details, "state_changed_at": state_changed_at, "recorded_on_retry": not changed}
        cur.execute(
            query("kill_switch/record_incident.sql"),
            {"kind": kind, "actor": st.changed_by, "summary": st.reason, "details": json.dumps(payload, default=str)},
        )
        return int(cur.fetchone()[0])


def _run(
    action: str,
    reason: str,
    actor: str,
    *,
    connect_admin: Connect,
    connect_compliance: Connect,
    alert_client: AlertmanagerClient | None = None,
    connect_monitor: Connect | None = None,
    generator_url: str = "",
    origin: Mapping[str, Any] | None = None,
    terminate_timeout_ms: int = TERMINATE_TIMEOUT_MS,
) -> KillSwitchResult:
    check_action(action)
    reason = check_reason(reason)
    actor = check_actor(actor)
    already, st, roles, terminated, errors, target = _apply(action, reason, actor, connect_admin, terminate_timeout_ms)
    changed = not already
    result = KillSwitchResult(action, actor, changed, st, roles, terminated, errors=errors)
    if already:
        log.warning(
            "kill switch already %s (by %s at %s: %s); %s by %s changed nothing",
            "engaged" if action == ENGAGE else "released",
            st.changed_by,
            st.when,
            st.reason,
            action,
            actor,
        )
    else:
        log.warning(
            "kill switch %s by %s: warehouse writes %s (%s)%s",
            action,
            actor,
            "STOPPED" if st.engaged else "allowed again",
            st.reason,
            f"; {len(terminated)} writer session(s) terminated" if action == ENGAGE else "",
        )
    # The page: fired on every engage (a re-fire is harmless and keeps it from timing out),
    # resolved on every release.
    result.alert, alert_error = _send_alert(
        st,
        resolve=action == RELEASE,
        alert_client=alert_client,
        connect_monitor=connect_monitor,
        generator_url=generator_url,
    )
    if alert_error:
        result.errors.append(f"{alert_error}; rerun {action} to send it")
    details = {
        "action": action,
        "requested_by": actor,
        "engaged": st.engaged,
        "roles_revoked" if action == ENGAGE else "roles_granted": roles,
        "sessions_terminated": terminated,
        "warehouse": target,
        "alert": result.alert,
        "origin": dict(origin or {}),
    }
    if errors:
        details["errors"] = errors
    try:
        result.incident_id = _record(action, st, changed, connect_compliance, details)
    except Exception as error:
        log.error("kill switch: writing compliance.incident_log failed: %s", error, exc_info=True)
        result.errors.append(f"compliance.incident_log not written ({error}); rerun {action} to record it")
    if result.errors:
        raise KillSwitchRecordError(
            f"{result.message}. The warehouse part is done (writes are "
            f"{'stopped' if st.engaged else 'allowed'}) but: " + " | ".join(result.errors)
        )
    log.info("%s", result.message)
    return result


def engage(
    reason: str, actor: str, *, connect_admin: Connect, connect_compliance: Connect, **options: Any
) -> KillSwitchResult:
    """Stop every write into the warehouse. Idempotent; safe to retry.

    connect_admin: warehouse as warehouse_admin; connect_compliance: .118 as compliance_admin.
    options: alert_client (None: no page is sent), connect_monitor (warehouse as pipeline_monitor,
    for the alert outbox; default the ``warehouse_monitor`` Airflow connection), generator_url,
    origin (recorded in the incident), terminate_timeout_ms.
    Raises KillSwitchInputError (nothing changed) or KillSwitchRecordError (writes ARE stopped,
    but a later step -- incident record, page, session termination -- failed: rerun).
    """
    return _run(ENGAGE, reason, actor, connect_admin=connect_admin, connect_compliance=connect_compliance, **options)


def release(
    reason: str, actor: str, *, connect_admin: Connect, connect_compliance: Connect, **options: Any
) -> KillSwitchResult:
    """Give the write paths back and resolve the page. Idempotent; safe to retry. Same options as
    :func:`engage` but terminate_timeout_ms (nothing to terminate)."""
    options = {**options, "terminate_timeout_ms": 0}
    return _run(RELEASE, reason, actor, connect_admin=connect_admin, connect_compliance=connect_compliance, **options)


# -- from Airflow connections (the DAG and the dataacuity-kill-switch command) -------------------
STATEMENT_TIMEOUT = "2min"  # no statement of engage/release may hang the on-call's command


def run_action(
    action: str,
    reason: str,
    actor: str,
    *,
    origin: Mapping[str, Any],
    generator_url: str = "",
) -> KillSwitchResult:
    """engage/release with the Airflow connections warehouse_admin, compliance_118,
    warehouse_monitor and alertmanager (without the last one the switch still works, unpaged)."""
    from dataacuity import connections

    check_action(action)
    try:
        client = AlertmanagerClient.from_connection(connections.ALERTMANAGER)
    except Exception as error:  # the switch must work even without the alert connection
        log.error("no Alertmanager client (connection %r): %s", connections.ALERTMANAGER, error)
        client = None
    fn = engage if action == ENGAGE else release
    return fn(
        reason,
        actor,
        connect_admin=connections.connector(connections.WAREHOUSE_ADMIN, statement_timeout=STATEMENT_TIMEOUT),
        connect_compliance=connections.connector(connections.COMPLIANCE, statement_timeout=STATEMENT_TIMEOUT),
        alert_client=client,
        connect_monitor=connections.connector(connections.WAREHOUSE_MONITOR, statement_timeout=STATEMENT_TIMEOUT),
        generator_url=generator_url,
        origin=origin,
    )


def current_status() -> KillSwitchStatus:
    """The status read with the warehouse_admin Airflow connection."""
    from dataacuity import connections

    with connections.connect(connections.WAREHOUSE_ADMIN, statement_timeout=STATEMENT_TIMEOUT) as conn:
        return status(conn)


# -- Airflow glue (dags/kill_switch.py) ----------------------------------------------------------
def run_dag_action(context: Mapping[str, Any]) -> dict[str, Any]:
    """The kill_switch DAG's task: check the confirmation, then engage or release.

    A wrong action/reason/phrase fails the task without retries and changes nothing. The actor is
    the user who triggered the run (``dag_run.triggering_user_name``), else "airflow".
    """
    from airflow.sdk.exceptions import AirflowFailException

    params = context["params"]
    action = params.get("action")
    try:
        check_action(action)
        check_confirmation(action, params.get("confirm"))
        reason = check_reason(params.get("reason"))
    except KillSwitchInputError as error:
        raise AirflowFailException(str(error)) from error
    dag_run = context.get("dag_run")
    ti = context.get("ti") or context.get("task_instance")
    actor = (getattr(dag_run, "triggering_user_name", None) or "").strip() or "airflow"
    generator_url = ""
    with contextlib.suppress(Exception):  # a link to the run's log is nice to have, never required
        generator_url = str(getattr(ti, "log_url", "") or "")
    origin = {
        "via": "airflow",
        "dag_id": getattr(dag_run, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None),
        "triggering_user_name": getattr(dag_run, "triggering_user_name", None),
    }
    result = run_action(action, reason, actor, origin=origin, generator_url=generator_url)
    log.warning("%s", result.message)
    return result.as_dict()
