"""rtbf_cascade: right to be forgotten (runbook §11.4). Wiring only: the logic is dataacuity.rtbf."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from dataacuity.dag_defaults import COMPLIANCE_QUEUE, default_args, tags
from dataacuity.rtbf import DAG_ID, REQUEST_ID_PATTERN, REQUESTED_AT_PATTERN, USER_ID_PATTERN

DOC = """\
### Right to be forgotten (runbook §11.4; POPIA §24 / GDPR Art. 17)

**File a request**: *Trigger* this DAG and fill in `user_id` (auth_db.users.id), `request_id`
(the ticket, e.g. `DSAR-2026-0042`), `requested_at` and `requested_by`. Leave them empty and the
run is the **daily sweep**: users soft-deleted in auth_db (landed in raw by the extract) are
registered as requests, and every request still open (e.g. one whose legal hold was lifted) is
resumed.

**What a run does** (per request): legal hold? -> record `held` and stop (the sweep resumes it
when the hold is lifted). Else tombstone the user on .118 (a keyed ref, never the id; survives
salt rotation; the extract drops tombstoned rows from then on and dbt gives tombstoned values no
pseudonym) -> delete from raw (every registry table with a user column; blank other users' columns
naming their email/phone/SA ID or their user id, e.g. a payment's merchant)
-> staging .. marts, ml, analytics (every table, by pseudonym under every salt generation, and
vault tokens) -> recompute the aggregates they counted in (k-anonymity tests run) -> push-back
tables in analytics_db -> token vault -> **zero-residual scan** of every table of every schema on
the warehouse and analytics_db -> closing record (`compliance.deletion_completion`) and a
confirmation in `compliance.rtbf_confirmation_outbox` for the app team. Evidence per table:
`compliance.rtbf_evidence`. The last task checks the SLA clock (7 days to cascade, 30 to close)
and pages `RTBFSlaAtRisk` (P1, request ids only) while a request is at risk.

**When it fails**: read the failed task's log. Every step is idempotent: clear the task (or
trigger again with the same request id): layers already clean report 0 rows, a deletion that
committed before a crash is in the journal and gets its evidence row. `verify` failing means the
scan found the user (`RTBFResidualFound`, P1; docs/runbooks/RTBFResidualFound.md): the task log
names the tables, never values. Kill switch engaged -> the cascade cannot write: release it first.
Runbooks: docs/runbooks/RTBFSlaAtRisk.md, docs/runbooks/RTBFResidualFound.md.
"""

with DAG(
    dag_id=DAG_ID,
    schedule="@daily",  # the sweep of soft-deleted users; manual runs file one request
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # two cascades never race over the same tables
    default_args=default_args(  # compliance_118 and warehouse_admin live on that worker only
        retries=2, retry_delay=timedelta(minutes=1), queue=COMPLIANCE_QUEUE
    ),
    tags=tags("compliance"),
    doc_md=DOC,
    params={
        "user_id": Param(
            None,
            type=["null", "string"],
            pattern=USER_ID_PATTERN,
            title="User id",
            description="auth_db.users.id of the person to forget (digits). Empty = daily sweep.",
        ),
        "request_id": Param(
            None,
            type=["null", "string"],
            pattern=REQUEST_ID_PATTERN,
            title="Request id",
            description="The request's ticket, e.g. DSAR-2026-0042 (letters, digits, _ . : -). Never reused.",
        ),
        "requested_at": Param(
            None,
            type=["null", "string"],
            pattern=REQUESTED_AT_PATTERN,
            title="Requested at",
            description="When the person made the request (the SLA clock starts here): ISO 8601, "
            "e.g. 2026-12-01T09:30 or 2026-12-01T09:30:00+02:00 (no offset = UTC).",
        ),
        "requested_by": Param(
            None,
            type=["null", "string"],
            minLength=2,
            title="Requested by",
            description="Who filed it (compliance officer / channel).",
        ),
    },
):

    @task(task_id="register")
    def register(**context) -> list[str]:
        """Manual: the one request of the form. Scheduled: the sweep. Returns request ids only."""
        from airflow.sdk.exceptions import AirflowFailException

        from dataacuity import rtbf

        params = context["params"]
        links = rtbf.Links.from_airflow()
        run_id = context["run_id"]
        given = [k for k in ("user_id", "request_id", "requested_at", "requested_by") if params.get(k)]
        if not given:
            return rtbf.sweep(links, run_id)
        try:
            request = rtbf.validate_request(params)
            return [rtbf.register(links, request, run_id)]
        except rtbf.RtbfInputError as error:
            raise AirflowFailException(str(error)) from error

    @task(task_id="cascade")
    def cascade(request_ids: list[str], **context) -> list[str]:
        """Every layer, for every request at once; returns the ids that cascaded (held ones are
        recorded as held and skipped)."""
        from dataacuity import rtbf

        outcomes = rtbf.cascade_many(rtbf.Links.from_airflow(), request_ids, context["run_id"])
        return [o.request_id for o in outcomes if o.state == "cascaded"]

    @task(task_id="recompute_aggregates")
    def recompute_aggregates(request_ids: list[str], **context) -> list[str]:
        """The aggregates the users counted in, for those grains only (k-anonymity tests run)."""
        from dataacuity import rtbf

        rtbf.recompute_aggregates(rtbf.Links.from_airflow(), request_ids, context["run_id"])
        return request_ids

    @task(task_id="verify")
    def verify(request_ids: list[str], **context) -> list[str]:
        """Zero-residual scan of every table on the warehouse and analytics_db; a hit fails and pages."""
        from airflow.sdk.exceptions import AirflowFailException

        from dataacuity import rtbf

        try:
            rtbf.verify_many(rtbf.Links.from_airflow(), request_ids, context["run_id"])
        except rtbf.ResidualFoundError as error:  # paged already; a retry would find the same
            raise AirflowFailException(str(error)) from error
        return request_ids

    @task(task_id="close")
    def close(request_ids: list[str], **context) -> list[dict]:
        """Closing record, confirmation outbox, sealed subject wiped."""
        from dataacuity import rtbf

        links = rtbf.Links.from_airflow()
        return [{"request_id": r, **rtbf.close(links, r, context["run_id"])} for r in request_ids]

    @task(task_id="sla_check", trigger_rule="all_done")
    def sla_check() -> dict:
        """Pages RTBFSlaAtRisk (P1) while a request is at risk; held requests are listed separately."""
        from dataacuity import rtbf

        return rtbf.check_sla(rtbf.Links.from_airflow())

    @task(task_id="done")
    def done(closed: list[dict]) -> int:
        """A leaf after close, so the run is failed whenever a request step failed (sla_check
        runs whatever happened and would otherwise be the only leaf)."""
        return len(closed)

    closed = close(verify(recompute_aggregates(cascade(register()))))
    done(closed)
    closed >> sla_check()
