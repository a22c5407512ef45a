"""legal_hold: place or lift a legal hold on a user. Wiring only: dataacuity.rtbf."""

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task

from dataacuity.dag_defaults import COMPLIANCE_QUEUE, default_args, tags
from dataacuity.rtbf import USER_ID_PATTERN

DOC = """\
### Legal hold (litigation, regulator or law-enforcement preservation order)

`action = place` with the user id, the case reference, who places it, why, and optionally until
when: every right-to-be-forgotten request of that user is paused (rtbf_cascade records `held`
and the SLA report lists it under *held*), and retention keeps their rows. `action = lift`
(user id, who, why) lifts every active hold of the user; the next daily `rtbf_cascade` sweep
resumes their open request. Stored by keyed ref in `compliance.legal_hold` (.118), never by id.

**When it fails**: a missing/short case reference, name or reason fails at once and changes
nothing: trigger again with them. Any other failure: read the log and trigger again.
"""

with DAG(
    dag_id="legal_hold",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(  # compliance_118 lives on that worker only
        retries=1, retry_delay=timedelta(seconds=30), queue=COMPLIANCE_QUEUE
    ),
    tags=tags("compliance"),
    doc_md=DOC,
    params={
        "action": Param(type="string", enum=["place", "lift"], title="Action"),
        "user_id": Param(type="string", pattern=USER_ID_PATTERN, title="User id", description="auth_db.users.id"),
        "case_ref": Param("", type="string", title="Case reference", description="Required to place a hold."),
        "actor": Param(type="string", minLength=2, title="Placed / lifted by"),
        "reason": Param(type="string", minLength=10, title="Reason"),
        "until": Param(
            None, type=["null", "string"], format="date-time", title="Hold until", description="Empty: until lifted."
        ),
    },
):

    @task(task_id="apply")
    def apply(**context) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from dataacuity import rtbf

        p = context["params"]
        links = rtbf.Links.from_airflow()
        try:
            if p["action"] == "place":
                until = datetime.fromisoformat(p["until"]) if p.get("until") else None
                hold_id = rtbf.place_hold(links, p["user_id"], p.get("case_ref") or "", p["actor"], p["reason"], until)
                return {"placed": hold_id}
            return {"lifted": rtbf.lift_hold(links, p["user_id"], p["actor"], p["reason"])}
        except rtbf.RtbfInputError as error:
            raise AirflowFailException(str(error)) from error

    apply()
