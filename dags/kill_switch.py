"""kill_switch: stop (or resume) every write into the warehouse in one action (security posture §7).

Wiring only: the logic is dataacuity.kill_switch (also behind the `dataacuity-kill-switch` command).
"""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from dataacuity.dag_defaults import default_args, tags
from dataacuity.kill_switch import CONFIRMATIONS, MIN_REASON_LENGTH

DOC = f"""\
### Warehouse kill switch (security posture §7) — P1 procedure

**Engage** when data must stop flowing into the warehouse *now* (PII where it must not be, a
compromised source or credential, a bad deploy writing garbage). Trigger this DAG with
`action = engage`, a `reason` (at least {MIN_REASON_LENGTH} characters: it goes into the incident
log and the page) and type `{CONFIRMATIONS["engage"]}` in `confirm`.

What it does, enforced by the database: revokes `etl_writer` from `etl_user` and `dbt_writer` from
`dbt_runner` (every write path), ends their open sessions (an in-flight batch rolls back), records
who/when/why in `ops.kill_switch` and `compliance.incident_log` (.118), and fires the P1
`KillSwitchEngaged` page (SourceStale/PushBackStale are inhibited while it fires). Extract and dbt
tasks then refuse to start and say who engaged it and why — expected, do not "fix" them.

**Release** with `action = release`, a reason and `{CONFIRMATIONS["release"]}`: grants back,
resolves the page, records it. Nothing is lost: the extracts did not advance their watermarks, so
the next runs land everything held back.

Engaging an engaged switch (or releasing a released one) changes nothing and says so
("already engaged"). The run's return value (XCom) lists roles, terminated sessions and the
incident id.

**When it fails**: a wrong confirmation phrase or a too-short reason fails at once without changing
anything — trigger again correctly. Any other failure: read the task log. If it says the warehouse
part is done but a later step failed (compliance DB, session termination), clear the task / trigger
again: every step is idempotent and the missing record is written once. If Airflow itself is the
problem, use the same action from a shell on the Airflow host:
`dataacuity-kill-switch engage --reason "..."`, `dataacuity-kill-switch release --reason "..."`,
`dataacuity-kill-switch status`. Runbook: docs/runbooks/KillSwitchEngaged.md.
"""

with DAG(
    dag_id="kill_switch",
    schedule=None,  # manual only
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,  # engage and release never overlap (the DB row lock serialises them too)
    # Fast retries: a retry is always safe (idempotent) and a kill switch must not wait minutes.
    default_args=default_args(retries=2, retry_delay=timedelta(seconds=5), retry_exponential_backoff=False),
    tags=tags("compliance"),
    doc_md=DOC,
    params={
        "action": Param(
            type="string",
            enum=["engage", "release"],
            title="Action",
            description="engage = stop every write into the warehouse; release = allow writes again.",
        ),
        "reason": Param(
            type="string",
            minLength=MIN_REASON_LENGTH,
            title="Reason",
            description="Why (goes into compliance.incident_log and the page).",
        ),
        "confirm": Param(
            type="string",
            pattern=f"^({CONFIRMATIONS['engage']}|{CONFIRMATIONS['release']})$",
            title="Confirmation",
            description=(f"Type {CONFIRMATIONS['engage']} to engage, or {CONFIRMATIONS['release']} to release."),
        ),
    },
):

    @task(task_id="apply")
    def apply(**context):
        from dataacuity import kill_switch

        return kill_switch.run_dag_action(context)

    apply()
